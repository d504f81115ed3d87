// Decides which IP addresses a result fetch may connect to: public unicast only, unless the operator consented
// (FETCH_ALLOW_PRIVATE, or an exact allow-list entry). Every address a name resolves to must pass, not just one.
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';
import { fetchFailed, urlForbidden } from './output-errors.js';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** All addresses of a name, as node:dns lookup `{ all: true }` answers; injectable so tests can play DNS. */
export type LookupAll = (hostname: string) => Promise<ResolvedAddress[]>;

export const systemLookup: LookupAll = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/**
 * The ipaddr.js range of an address: `unicast` for public addresses, otherwise e.g. `loopback`, `private`,
 * `linkLocal`, `uniqueLocal`, `carrierGradeNat`, `multicast`, `unspecified`, `reserved`, `6to4`, `rfc6052`.
 * IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is judged as the IPv4 address it carries.
 */
export function addressRange(ip: string): string {
  if (!ipaddr.isValid(ip)) return 'invalid';
  return ipaddr.process(ip).range();
}

export function isPublicAddress(ip: string): boolean {
  return addressRange(ip) === 'unicast';
}

/**
 * Resolve `host` (already normalised: no brackets) and return the addresses to connect to.
 * Throws OUTPUT_URL_FORBIDDEN when any address is non-public and there is no consent, or none was found.
 */
export async function resolveTarget(
  host: string,
  privateConsent: boolean,
  lookup: LookupAll = systemLookup,
): Promise<ResolvedAddress[]> {
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(host);
    } catch (err) {
      // A resolver hiccup must not lose an output for good; a bad name fails again on retry, cheaply.
      throw fetchFailed(`cannot resolve ${host}: ${(err as Error).message}`, true, err);
    }
  }
  if (addresses.length === 0) throw fetchFailed(`${host} resolves to no address`, true);
  if (privateConsent) return addresses;
  for (const a of addresses) {
    const range = addressRange(a.address);
    // One bad answer refuses the host: picking the good one would leave the next lookup to chance.
    if (range !== 'unicast') throw urlForbidden(`${host} resolves to ${a.address} (${range})`);
  }
  return addresses;
}
