// A batch's progress: one bar split into completed / partial / failed / cancelled / in flight / queued, and the
// counters beside it. Elements carry data-field names so the client can refresh them from the stream.
import type { BatchStatus } from '../status/read-status.js';
import { formatTime, formatUsd } from './format-values.js';
import { html, type SafeHtml } from './safe-html.js';

const SEGMENTS = ['completed', 'partial', 'failed', 'cancelled', 'inFlight', 'queued'] as const;
const PERCENT = 100;

export function renderProgressBar(b: BatchStatus): SafeHtml {
  const parts = SEGMENTS.map((name) => {
    const width = b.total > 0 ? (b[name] / b.total) * PERCENT : 0;
    return html`<span class="seg seg-${name}" data-segment="${name}" style="width:${width.toFixed(2)}%"></span>`;
  });
  const label = `${b.completed + b.partial + b.failed + b.cancelled} of ${b.total} ended`;
  return html`<div class="bar" role="img" aria-label="${label}">${parts}</div>`;
}

export function renderStateBadge(state: string): SafeHtml {
  return html`<span class="badge badge-${state}" data-field="state">${state.replaceAll('_', ' ')}</span>`;
}

export function renderBudget(b: BatchStatus & { held: boolean; heldAt: number | null }): SafeHtml {
  // Always present (hidden unless held) so the live stream can show a hold as it happens.
  const held = html` <span class="badge badge-held" data-field="held" title="queued tasks are held: running them would pass the budget (since ${formatTime(b.heldAt)})"${b.held === true ? '' : html` hidden`}>held</span>`;
  return html`<span data-field="budgetUsd" data-format="usd">${b.budgetUsd === null ? 'no budget' : formatUsd(b.budgetUsd)}</span>${held}`;
}
