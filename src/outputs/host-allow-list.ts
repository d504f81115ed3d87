// Matches a URL's host and port against FETCH_ALLOWED_HOSTS entries: `host`, `host:port`, `*.suffix`.
// An exact match is the operator's consent to reach that host even on a private address; a wildcard is not.
import ipaddr from 'ipaddr.js';

export type AllowListMatch = 'exact' | 'wildcard' | 'none';

export interface AllowEntry {
  kind: 'exact' | 'wildcard';
  /** Lower-case host without brackets or trailing dot; for a wildcard, the suffix with its leading dot. */
  host: string;
  /** Undefined: any port. */
  port: number | undefined;
}

const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;
const WITH_PORT = /^(.*):([0-9]{1,5})$/;
const MAX_PORT = 65_535;

/** Parse one entry; null when it is not a host, `host:port` or `*.suffix` (e.g. a URL or a bare `*`). */
export function parseAllowEntry(raw: string): AllowEntry | null {
  let rest = raw.trim().toLowerCase();
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(rest);
  if (bracketed?.[1] !== undefined) {
    rest = bracketed[1];
    port = bracketed[2] === undefined ? undefined : Number(bracketed[2]);
  } else if (!ipaddr.IPv6.isValid(rest)) {
    const m = WITH_PORT.exec(rest);
    if (m?.[1] !== undefined && m[2] !== undefined) {
      rest = m[1];
      port = Number(m[2]);
    }
  }
  if (port !== undefined && (port < 1 || port > MAX_PORT)) return null;
  if (rest.startsWith('*.')) {
    const suffix = normaliseHost(rest.slice(2));
    return HOST_NAME.test(suffix) ? { kind: 'wildcard', host: `.${suffix}`, port } : null;
  }
  const host = normaliseHost(rest);
  return ipaddr.isValid(host) || HOST_NAME.test(host) ? { kind: 'exact', host, port } : null;
}

/** Parsed lists by identity: only frozen lists, which cannot change after they were parsed. */
const PARSED = new WeakMap<readonly string[], readonly (AllowEntry | null)[]>();

/**
 * Every entry of `entries` parsed (null where parseAllowEntry refuses it). A frozen list — the one
 * fetchPolicyFromConfig builds at startup — is parsed once and the same result returned from then on.
 */
export function parseAllowList(entries: readonly string[]): readonly (AllowEntry | null)[] {
  const known = PARSED.get(entries);
  if (known) return known;
  const parsed = Object.freeze(entries.map(parseAllowEntry));
  if (Object.isFrozen(entries)) PARSED.set(entries, parsed);
  return parsed;
}

/** How `hostname` (as in URL.hostname) on `port` matches the list; the strongest match wins. */
export function matchAllowList(entries: readonly string[], hostname: string, port: number): AllowListMatch {
  if (entries.length === 0) return 'none';
  const host = normaliseHost(hostname);
  const isIp = ipaddr.isValid(host);
  let best: AllowListMatch = 'none';
  for (const e of parseAllowList(entries)) {
    if (!e || (e.port !== undefined && e.port !== port)) continue;
    if (e.kind === 'exact' && e.host === host) return 'exact';
    // A wildcard names DNS names only: `*.0.0.1` must not admit 127.0.0.1.
    if (e.kind === 'wildcard' && !isIp && host.endsWith(e.host) && host.length > e.host.length) {
      best = 'wildcard';
    }
  }
  return best;
}

/** Lower-case, no IPv6 brackets, no trailing root dot, IPv6 in its canonical compressed form. */
export function normaliseHost(hostname: string): string {
  let h = hostname.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return ipaddr.IPv6.isValid(h) ? ipaddr.IPv6.parse(h).toString() : h;
}
