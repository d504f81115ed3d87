// The checks a result URL passes before any DNS or connection: scheme, no credentials, the host allow-list.
// Runs for the first URL and again for every redirect target.
import type { FetchPolicy } from './fetch-policy.js';
import { matchAllowList, normaliseHost } from './host-allow-list.js';
import { urlForbidden } from './output-errors.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

export interface CheckedUrl {
  url: URL;
  /** Lower-case, without IPv6 brackets. */
  host: string;
  port: number;
  /** The operator allowed this host to be private: FETCH_ALLOW_PRIVATE, or an exact allow-list entry. */
  privateConsent: boolean;
}

export function checkUrl(raw: string | URL, policy: FetchPolicy): CheckedUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw urlForbidden('not a valid absolute URL');
  }
  const defaultPort = DEFAULT_PORTS[url.protocol];
  if (defaultPort === undefined)
    throw urlForbidden(`scheme ${url.protocol} is not allowed (http/https only)`);
  if (url.username || url.password) throw urlForbidden('URLs with credentials are not allowed');
  const host = normaliseHost(url.hostname);
  const port = url.port ? Number(url.port) : defaultPort;
  const match = matchAllowList(policy.allowedHosts, url.hostname, port);
  if (policy.allowedHosts.length > 0 && match === 'none') {
    throw urlForbidden(`host ${url.host} is not in the allow-list`);
  }
  return { url, host, port, privateConsent: policy.allowPrivate || match === 'exact' };
}
