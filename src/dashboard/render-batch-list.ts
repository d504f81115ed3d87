// The front page: the newest batches with their progress, cost and budget. Overdue counts are per
// batch page only (see overdue-tasks.ts); the queue-wide overdue count is in the banner.
import type { BatchStatus } from '../status/read-status.js';
import { formatTime, formatUsd } from './format-values.js';
import { renderProgressBar, renderStateBadge } from './render-progress.js';
import { html, type SafeHtml } from './safe-html.js';

export function renderBatchList(
  batches: readonly BatchStatus[],
  page: { offset: number; limit: number; next: number | null },
): SafeHtml {
  const { offset, limit, next } = page;
  if (batches.length === 0 && offset === 0) {
    return html`<h1>Batches</h1><p class="empty">No batches yet. Enqueue one with <code>kontext-relay enqueue tasks.jsonl --batch</code>.</p>`;
  }
  const rows = batches.map(
    (b) => html`<tr>
  <td><a href="batches/${encodeURIComponent(b.batchId)}"><code>${b.batchId}</code></a></td>
  <td>${renderStateBadge(b.state)}${b.cancelRequested ? html` <span class="badge badge-cancelled">cancel requested</span>` : ''}</td>
  <td class="progress-cell">${renderProgressBar(b)}
    <small>${b.completed} done · ${b.failed} failed · ${b.inFlight} in flight · ${b.queued} queued · ${b.total} total</small></td>
  <td class="num">${formatUsd(b.cost)}</td>
  <td class="num">${b.budgetUsd === null ? '—' : formatUsd(b.budgetUsd)}</td>
  <td><time>${formatTime(b.createdAt)}</time></td>
</tr>`,
  );
  const pager = html`<nav class="pager">
  ${offset > 0 ? html`<a href="?offset=${Math.max(0, offset - limit)}">← newer</a>` : ''}
  ${next !== null ? html`<a href="?offset=${next}">older →</a>` : ''}
</nav>`;
  return html`<h1>Batches</h1>
<table class="batches">
<thead><tr><th>Batch</th><th>State</th><th>Progress</th><th class="num">Cost</th><th class="num">Budget</th><th>Created</th></tr></thead>
<tbody>${rows}</tbody>
</table>
${pager}`;
}
