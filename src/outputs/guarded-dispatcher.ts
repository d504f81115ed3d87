// An undici Agent whose every new connection re-checks its target and connects to the address it checked,
// so DNS rebinding between a pre-flight check and the connect cannot swap in a private address.
import { Agent, buildConnector } from 'undici';
import { type LookupAll, resolveTarget, systemLookup } from './check-address.js';
import { checkUrl } from './check-url.js';
import type { FetchPolicy } from './fetch-policy.js';

/** Connect-phase limit; the policy's overall timeout still bounds the whole fetch. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A dispatcher for result fetches under `policy`. Share one per policy to reuse connections; a pooled
 * connection was vetted when it was opened. `lookup` replaces system DNS (tests play DNS with it).
 */
export function createOutputDispatcher(policy: FetchPolicy, opts: { lookup?: LookupAll } = {}): Agent {
  const lookup = opts.lookup ?? systemLookup;
  const base = buildConnector({ timeout: Math.min(policy.timeoutMs, CONNECT_TIMEOUT_MS) });
  const connect: buildConnector.connector = (options, callback) => {
    const origin = `${options.protocol}//${options.host ?? hostWithPort(options.hostname, options.port)}`;
    Promise.resolve()
      .then(() => {
        const target = checkUrl(origin, policy);
        return resolveTarget(target.host, target.privateConsent, lookup);
      })
      .then(
        // resolveTarget never returns an empty list. TCP goes to the vetted address; TLS SNI and the
        // certificate check still use the name in `host`.
        (addresses) => base({ ...options, hostname: addresses[0]!.address }, callback),
        (err: Error) => callback(err, null),
      );
  };
  return new Agent({ connect, headersTimeout: policy.timeoutMs, bodyTimeout: policy.timeoutMs });
}

function hostWithPort(hostname: string, port: string): string {
  const h = hostname.includes(':') ? `[${hostname}]` : hostname;
  return port ? `${h}:${port}` : h;
}
