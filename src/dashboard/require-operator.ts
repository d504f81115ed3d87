// Roles on the dashboard: the auth middleware records who is asking (res.locals.access); action routes
// opt into `requireOperator`, and `viewersReadOnly` refuses every non-GET request from a viewer, so a
// route someone forgets to guard still cannot act for a viewer (bull-board's mutations included).
import type { RequestHandler, Response } from 'express';
import type { AccessRole } from '../tokens/access-tokens.js';

export interface DashboardAccess {
  role: AccessRole;
  /** Who, for the audit trail: a token id (`tok_…`) or `loopback` for a dashboard without a token. */
  actor: string;
}

/** Set by the dashboard's auth middleware on every request it lets through. */
export function accessOf(res: Response): DashboardAccess {
  const a = res.locals.access as DashboardAccess | undefined;
  // The auth middleware runs first on every dashboard route; a missing grant is treated as a viewer.
  return a ?? { role: 'viewer', actor: 'unknown' };
}

export function setAccess(res: Response, access: DashboardAccess): void {
  res.locals.access = access;
}

/** Put on a route that acts (retries, cancels, budgets, replays…): viewers get 403. */
export const requireOperator: RequestHandler = (_req, res, next) => {
  if (accessOf(res).role === 'operator') return next();
  res.status(403).json({
    ok: false,
    code: 'OPERATOR_ONLY',
    message: 'this token may view the dashboard but not act: actions need DASHBOARD_TOKEN',
  });
};

/** Viewers may only read: any method other than GET and HEAD needs the operator. */
export const viewersReadOnly: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  requireOperator(req, res, next);
};
