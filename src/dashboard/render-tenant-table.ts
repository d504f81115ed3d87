// The overview page's fair-share table (issue 14): per tenant, queued, in flight, ended and share of
// the last minute. Shown only when MAX_IN_FLIGHT is set; the busiest tenants first.
import type { TenantFigures } from '../tasks/admission-store.js';
import type { DashboardContext } from './dashboard-context.js';
import { html, type SafeHtml } from './safe-html.js';

/** Rows on the overview; `kontext-relay tenant list` shows them all. */
export const OVERVIEW_TENANT_ROWS = 20;

export async function readTenantOverview(ctx: DashboardContext): Promise<TenantFigures[] | null> {
  if (!ctx.config.MAX_IN_FLIGHT || !ctx.admission) return null;
  return (await ctx.admission.tenants()).slice(0, OVERVIEW_TENANT_ROWS);
}

export function renderTenantTable(
  tenants: readonly TenantFigures[] | null,
  cap: number | undefined,
): SafeHtml | '' {
  if (tenants === null) return '';
  const inFlight = tenants.reduce((s, t) => s + t.inFlight, 0);
  const rows = tenants.map(
    (t) => html`<tr>
  <td><code>${t.tenant}</code>${t.throttled ? html` <span class="badge badge-held">throttled</span>` : ''}</td>
  <td class="num">${t.weight}</td>
  <td class="num">${t.maxInFlight > 0 ? t.maxInFlight : '—'}</td>
  <td class="num">${t.queued}</td>
  <td class="num">${t.inFlight}</td>
  <td class="num">${t.ended}</td>
  <td class="num">${(t.shareLastMinute * 100).toFixed(1)}%</td>
</tr>`,
  );
  return html`<h2>Tenants</h2>
<p class="tenants-summary">${inFlight} of ${cap ?? '—'} in flight (MAX_IN_FLIGHT)</p>
<table class="batches tenants">
<thead><tr><th>Tenant</th><th class="num">Weight</th><th class="num">Cap</th><th class="num">Queued</th><th class="num">In flight</th><th class="num">Ended</th><th class="num">Share, last minute</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="empty">No tenant has work yet.</td></tr>`}</tbody>
</table>`;
}
