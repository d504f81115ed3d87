// Who may see the dashboard: with a token, a request must carry it or a viewer token (Bearer, basic-auth
// password, or the session cookie that a one-time `?token=` sets); without one, only loopback Host names
// are answered. Whoever passes is recorded as operator or viewer (require-operator.ts).
import { createHmac } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { type AccessGrant, AccessTokens, credentialOf } from '../tokens/access-tokens.js';
import { hostOfHeader, isLoopbackAddress } from './loopback-host.js';
import { setAccess } from './require-operator.js';

export const SESSION_COOKIE = 'kr_dashboard';
/** Browsers show this name in the basic-auth prompt. */
const REALM = 'kontext-relay dashboard';
/** State-changing calls must carry this header: a cross-site form cannot set it without a CORS preflight. */
export const ACTION_HEADER = 'x-kr-action';
const SESSION_LABEL = 'kontext-relay dashboard session v1';

export interface AuthOptions {
  /** The operator's token (DASHBOARD_TOKEN). */
  token: string | undefined;
  /** Tokens that may look but not act (DASHBOARD_VIEWER_TOKEN). Ignored without an operator token. */
  viewerTokens?: readonly string[] | undefined;
  /** Path the session cookie is scoped to (the dashboard's base path). */
  cookiePath: string;
}

/** The cookie holds an HMAC of the token, never the token itself. */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update(SESSION_LABEL).digest('hex');
}

export function createDashboardAuth(opts: AuthOptions): RequestHandler {
  const { token } = opts;
  if (token === undefined) {
    return (req, res, next) => {
      // An open dashboard answers only to loopback names, so a rebound DNS name cannot reach it.
      if (isLoopbackAddress(hostOfHeader(req.headers.host))) {
        setAccess(res, { role: 'operator', actor: 'loopback' });
        return next();
      }
      res.status(403).type('text/plain').send('this dashboard has no token and answers only on localhost');
    };
  }
  const tokens = new AccessTokens(token, opts.viewerTokens ?? []);
  return (req, res, next) => {
    const grant = presentedGrant(req, tokens);
    if (grant) {
      setAccess(res, { role: grant.role, actor: grant.tokenId });
      return next();
    }
    const fromQuery = typeof req.query.token === 'string' ? req.query.token : undefined;
    const queried = fromQuery === undefined ? undefined : tokens.match(fromQuery);
    if (queried && (req.method === 'GET' || req.method === 'HEAD')) {
      setSessionCookie(req, res, sessionValue(queried.token), opts.cookiePath);
      // Drop the token from the address bar and history.
      res.redirect(303, withoutTokenParam(req.originalUrl));
      return;
    }
    res.set('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
    res.status(401).type('text/plain').send('dashboard token required');
  };
}

/** Refuse POST/PUT/PATCH/DELETE without the action header (cross-site requests cannot add it). */
export const requireActionHeader: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD' || req.headers[ACTION_HEADER] === '1') return next();
  res.status(403).json({ ok: false, code: 'ACTION_HEADER_MISSING', message: `send ${ACTION_HEADER}: 1` });
};

/** For UIs we cannot teach the header (bull-board): refuse writes a browser marks as cross-site. */
export const rejectCrossSiteWrites: RequestHandler = (req, res, next) => {
  const site = req.headers['sec-fetch-site'];
  if (
    req.method === 'GET' ||
    req.method === 'HEAD' ||
    site === undefined ||
    site === 'same-origin' ||
    site === 'none'
  )
    return next();
  res.status(403).json({ ok: false, code: 'CROSS_SITE_REFUSED', message: 'cross-site request refused' });
};

/** The grant of the credential the request carries (header first, then the session cookie). */
function presentedGrant(req: Request, tokens: AccessTokens): AccessGrant | undefined {
  const presented = credentialOf(req.headers.authorization);
  const byHeader = presented === undefined ? undefined : tokens.match(presented);
  if (byHeader) return byHeader;
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie === undefined ? undefined : tokens.match(cookie, sessionValue);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function setSessionCookie(req: Request, res: Response, value: string, path: string): void {
  res.cookie(SESSION_COOKIE, value, { httpOnly: true, sameSite: 'strict', secure: req.secure, path });
}

function withoutTokenParam(originalUrl: string): string {
  const url = new URL(originalUrl, 'http://placeholder');
  url.searchParams.delete('token');
  return url.pathname + url.search;
}
