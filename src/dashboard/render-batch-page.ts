// A batch's page: its counters (live, from the stream), cost and budget, the actions (retry failed,
// cancel — with what cancelling costs), the status filter and search, and the gallery of its tasks.

import type { TaskPage, TaskQuery } from './find-batch-tasks.js';
import { TASK_FILTERS } from './find-batch-tasks.js';
import { formatTime, formatUsd } from './format-values.js';
import type { BatchView } from './read-batch-view.js';
import { renderBudget, renderProgressBar, renderStateBadge } from './render-progress.js';
import { renderGallery } from './render-task-cards.js';
import { html, type SafeHtml } from './safe-html.js';

const FILTER_LABELS: Record<(typeof TASK_FILTERS)[number], string> = {
  all: 'All',
  queued: 'Queued',
  inflight: 'In flight',
  overdue: 'Overdue',
  completed: 'Completed',
  partial: 'Partial',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** Honest words for the cancel confirmation and the page: in-flight work is already paid for. */
export const CANCEL_NOTE =
  'Cancelling removes the queued tasks. Tasks already submitted cannot be recalled: they are marked ' +
  'cancelled and their late results are discarded, but the provider still bills them.';

export function renderBatchPage(b: BatchView, query: TaskQuery, page: TaskPage, charts?: SafeHtml): SafeHtml {
  const counter = (field: keyof BatchView, label: string, cls = '') => {
    const value = field === 'overdue' && b.overdueCapped ? `${b.overdue}+` : String(b[field]);
    return html`<div class="counter ${cls}"><span class="n" data-field="${field}">${value}</span><span class="label">${label}</span></div>`;
  };
  const options = TASK_FILTERS.map(
    (f) =>
      html`<option value="${f}"${query.status === f ? html` selected` : ''}>${FILTER_LABELS[f]}</option>`,
  );
  return html`<h1>Batch <code>${b.batchId}</code> ${renderStateBadge(b.state)}
  <span class="badge badge-cancelled" data-field="cancelRequested"${b.cancelRequested ? '' : html` hidden`}>cancel requested</span>
  <span class="live" id="live" title="live updates connected" hidden>live</span></h1>
<section class="summary" aria-label="progress" data-counts="${countsKey(b)}">
  ${renderProgressBar(b)}
  <div class="counters">
    ${counter('completed', 'done', 'ok')}
    ${counter('partial', 'partial', 'warn')}
    ${counter('failed', 'failed', 'bad')}
    ${counter('inFlight', 'in flight', 'run')}
    ${counter('overdue', 'overdue', 'warn')}
    ${counter('queued', 'queued')}
    ${counter('cancelled', 'cancelled')}
    ${counter('total', 'total')}
  </div>
  <dl class="facts">
    <dt>Cost</dt><dd data-field="cost" data-format="usd">${formatUsd(b.cost)}</dd>
    <dt>Budget</dt><dd>${renderBudget(b)}</dd>
    <dt>Created</dt><dd>${formatTime(b.createdAt)}</dd>
    <dt>Finished</dt><dd data-field="finishedAt" data-format="time">${formatTime(b.finishedAt)}</dd>
  </dl>
  <div class="actions">
    <button type="button" class="action" data-action="retry-failed" title="failed tasks run again whole, partial tasks only for their failed slots"${b.failed + b.partial === 0 ? html` disabled` : ''}>Retry failed</button>
    <button type="button" class="action danger" data-action="cancel" data-confirm="${CANCEL_NOTE}"${ended(b) ? html` disabled` : ''}>Cancel batch</button>
    <p class="note">${CANCEL_NOTE}</p>
    <p class="result" role="status" id="action-result"></p>
  </div>
</section>
${charts}
<form class="filters" id="filters" role="search">
  <label>Status <select name="status">${options}</select></label>
  <label>Search <input type="search" name="q" value="${query.q}" placeholder="prompt text or taskUUID" maxlength="200"></label>
  <button type="submit">Apply</button>
</form>
<section id="gallery" aria-live="polite">${renderGallery(page, query)}</section>`;
}

/**
 * The counters whose change makes the client re-fetch the gallery, in the client's format: the page
 * starts from these, so a change between render and the first streamed status is not missed.
 */
export function countsKey(b: BatchView): string {
  return [b.completed, b.partial, b.failed, b.cancelled, b.inFlight, b.queued, b.overdue].join(',');
}

/** Nothing left to cancel once every task has ended. */
function ended(b: BatchView): boolean {
  return b.completed + b.partial + b.failed + b.cancelled >= b.total && b.state !== 'enqueuing';
}
