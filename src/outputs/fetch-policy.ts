// What a fetch of a result URL may do: which hosts, whether private addresses, how many bytes and how long.
// The URL comes from an unauthenticated webhook body, so the defaults refuse everything but public unicast.
import type { Config } from '../config/load-config.js';
import { ConfigError } from '../errors.js';
import { parseAllowList } from './host-allow-list.js';

/** Redirect hops followed when the policy names none; each hop is re-checked like the first URL. */
export const DEFAULT_MAX_REDIRECTS = 3;

export interface FetchPolicy {
  /**
   * Hostnames, `host:port`, or `*.suffix` wildcards; when non-empty the host must match one.
   * An exact entry (not a wildcard) also allows that host to resolve to a private address.
   */
  allowedHosts: readonly string[];
  /** Allow loopback, private, link-local and other non-public addresses for every host. */
  allowPrivate: boolean;
  maxBytes: number;
  /** For the whole fetch: every redirect hop and the body together. */
  timeoutMs: number;
  maxRedirects?: number;
}

/** Throws ConfigError for an allow-list entry that could never match (a URL, a bare `*`, a bad port). */
export function fetchPolicyFromConfig(cfg: Config): FetchPolicy {
  // Frozen, then parsed here once: every URL check reuses this parse (parseAllowList keeps it).
  const allowedHosts = Object.freeze([...cfg.FETCH_ALLOWED_HOSTS]);
  const parsed = parseAllowList(allowedHosts);
  const bad = allowedHosts.filter((_, i) => parsed[i] === null);
  if (bad.length > 0) {
    throw new ConfigError(
      `FETCH_ALLOWED_HOSTS: ${bad.map((e) => `"${e}"`).join(', ')} is not a host, host:port or *.suffix`,
    );
  }
  return Object.freeze({
    allowedHosts,
    allowPrivate: cfg.FETCH_ALLOW_PRIVATE,
    maxBytes: cfg.MAX_OUTPUT_BYTES,
    timeoutMs: cfg.FETCH_TIMEOUT_MS,
    maxRedirects: DEFAULT_MAX_REDIRECTS,
  });
}
