// Who may read /metrics: anyone when no credential is configured (a loopback-only default, as before);
// otherwise a request must carry METRICS_TOKEN, DASHBOARD_TOKEN or a DASHBOARD_VIEWER_TOKEN (Bearer or
// basic-auth password). /healthz stays open for load balancers and orchestrators.
import type { RequestHandler } from 'express';
import type { Config } from '../config/load-config.js';
import { AccessTokens, credentialOf } from '../tokens/access-tokens.js';

const REALM = 'kontext-relay metrics';

export function guardMetrics(
  c: Pick<Config, 'METRICS_TOKEN' | 'DASHBOARD_TOKEN' | 'DASHBOARD_VIEWER_TOKEN'>,
): RequestHandler {
  const readers = [c.METRICS_TOKEN, ...c.DASHBOARD_VIEWER_TOKEN].filter((t): t is string => t !== undefined);
  const tokens = new AccessTokens(c.DASHBOARD_TOKEN, readers);
  if (!tokens.configured) return (_req, _res, next) => next();
  return (req, res, next) => {
    const presented = credentialOf(req.headers.authorization);
    if (presented !== undefined && tokens.match(presented)) return next();
    res.set('www-authenticate', `Basic realm="${REALM}", charset="UTF-8"`);
    res.status(401).type('text/plain').send('metrics token required (METRICS_TOKEN or a dashboard token)');
  };
}
