// The audit trail on the dashboard: GET /audit (a page, newest first) and GET /api/audit (JSON). Both
// are reads, so viewers see them too; `?since=<ms or ISO time>` and `?limit=` narrow them.
import type { Request, Response, Router } from 'express';
import { AUDIT_DEFAULT_LIMIT, type AuditEntry, readAuditTrail } from '../control/audit-trail.js';
import type { DashboardContext } from './dashboard-context.js';
import { isoTime } from './format-values.js';
import { securityHeaders } from './page-routes.js';
import { readQueueSummary } from './read-batch-view.js';
import { renderLayout } from './render-layout.js';
import { html } from './safe-html.js';

const MAX_LIMIT = 1000;

export function mountAuditRoutes(router: Router, ctx: DashboardContext, opts: { basePath: string }): void {
  router.get('/api/audit', async (req, res) => {
    const q = auditQuery(req, res);
    if (!q) return;
    res.json({ entries: await readAuditTrail(ctx, q) });
  });

  router.get('/audit', async (req, res) => {
    const q = auditQuery(req, res);
    if (!q) return;
    const [entries, queue] = await Promise.all([readAuditTrail(ctx, q), readQueueSummary(ctx)]);
    res
      .set(securityHeaders([]))
      .type('html')
      .send(
        renderLayout({
          title: 'Audit trail',
          basePath: opts.basePath,
          queue,
          body: renderAuditTable(entries),
          data: { page: 'audit' },
        }),
      );
  });
}

function auditQuery(req: Request, res: Response): { sinceMs?: number; limit: number } | undefined {
  const limit = req.query.limit === undefined ? AUDIT_DEFAULT_LIMIT : Number(req.query.limit);
  const since = typeof req.query.since === 'string' ? parseSince(req.query.since) : undefined;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT || Number.isNaN(since)) {
    res.status(400).type('text/plain').send(`since: ms or ISO time; limit: 1 to ${MAX_LIMIT}`);
    return undefined;
  }
  return since === undefined ? { limit } : { sinceMs: since, limit };
}

function parseSince(s: string): number {
  return /^\d+$/.test(s) ? Number(s) : Date.parse(s);
}

function renderAuditTable(entries: readonly AuditEntry[]) {
  const rows = entries.map(
    (e) => html`<tr data-audit-id="${e.id}">
  <td><time datetime="${isoTime(e.at)}">${isoTime(e.at)}</time></td>
  <td><code>${e.actor}</code></td>
  <td>${e.action}</td>
  <td>${e.batchId ? html`<a href="batches/${encodeURIComponent(e.batchId)}">${e.batchId}</a>` : '—'}</td>
  <td class="num">${e.tasks}</td>
  <td class="num">${e.mayBillImages ?? 'unknown'}</td>
</tr>`,
  );
  return html`<h1>Audit trail</h1>
<p>Every operator action, newest first: who (a token id, <code>loopback</code> or <code>cli@host</code>), what,
which batch, how many tasks, and how many images it may bill.</p>
<table class="audit">
<thead><tr><th>when</th><th>who</th><th>action</th><th>batch</th><th>tasks</th><th>may bill (images)</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="6">No operator actions recorded yet.</td></tr>`}</tbody>
</table>`;
}
