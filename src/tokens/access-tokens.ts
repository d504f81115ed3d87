// Who a presented credential is: the operator (DASHBOARD_TOKEN) or a viewer (DASHBOARD_VIEWER_TOKEN).
// Every comparison is constant-time against every token; a token is named by a short hash, never shown.
import { createHash, timingSafeEqual } from 'node:crypto';

export type AccessRole = 'operator' | 'viewer';

export interface AccessGrant {
  role: AccessRole;
  /** `tok_` and 12 hex digits of the token's SHA-256: safe for logs and the audit trail. */
  tokenId: string;
  token: string;
}

/** The audit trail's name for a token: a short hash, so the token itself is never written down. */
export function tokenId(token: string): string {
  return `tok_${createHash('sha256').update(token).digest('hex').slice(0, 12)}`;
}

/** Constant-time comparison of any two strings (digests first, so lengths leak nothing). */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

export class AccessTokens {
  readonly grants: readonly AccessGrant[];

  constructor(operator: string | undefined, viewers: readonly string[] = []) {
    const grants: AccessGrant[] = [];
    if (operator !== undefined)
      grants.push({ role: 'operator', token: operator, tokenId: tokenId(operator) });
    for (const v of viewers) grants.push({ role: 'viewer', token: v, tokenId: tokenId(v) });
    this.grants = grants;
  }

  get configured(): boolean {
    return this.grants.length > 0;
  }

  /** The grant whose token (or derived value, e.g. a session cookie) equals `presented`. */
  match(presented: string, derive: (token: string) => string = (t) => t): AccessGrant | undefined {
    let found: AccessGrant | undefined;
    // No early exit: every grant is compared, whichever matches.
    for (const g of this.grants) if (sameSecret(presented, derive(g.token)) && !found) found = g;
    return found;
  }
}

/** The secret in an Authorization header: a Bearer token, or a basic-auth password. */
export function credentialOf(authorization: string | undefined): string | undefined {
  const [scheme, value = ''] = (authorization ?? '').split(/\s+/, 2);
  if (scheme?.toLowerCase() === 'bearer' && value) return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon !== -1) return decoded.slice(colon + 1);
  }
  return undefined;
}
