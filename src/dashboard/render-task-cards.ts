// The gallery: one card per task with its thumbnails, prompt, size, seed, cost, status, timings and
// provider error, and a pager that continues where a filtered scan stopped. Every field is escaped.
import type { DashboardTask, TaskPage, TaskQuery } from './find-batch-tasks.js';
import { between, formatDuration, formatTime, formatUsd, isoTime } from './format-values.js';
import { html, type SafeHtml } from './safe-html.js';

export function renderGallery(page: TaskPage, query: TaskQuery): SafeHtml {
  const cards = page.tasks.map(renderTaskCard);
  const filtered = query.status !== 'all' || query.q.trim() !== '';
  const empty =
    page.tasks.length === 0 ? html`<p class="empty">No tasks ${filtered ? 'match' : 'yet'}.</p>` : '';
  const from = html`<span class="muted">${filtered ? `examined ${page.scanned} tasks from #${page.offset + 1}` : `from #${page.offset + 1}`}</span>`;
  const back = page.offset > 0 ? html`<a href="#" data-offset="0">⇤ first</a>` : '';
  const more = page.next !== null ? html`<a href="#" data-offset="${page.next}">next →</a>` : '';
  return html`<div class="cards" data-count="${page.tasks.length}">${cards}</div>${empty}
<nav class="pager">${back} ${from} ${more}</nav>`;
}

export function renderTaskCard(t: DashboardTask): SafeHtml {
  const thumbs =
    t.outputs.length > 0
      ? t.outputs.map(
          (
            o,
          ) => html`<a href="media/${encodeURIComponent(t.taskUUID)}/${o.slot}" target="_blank" rel="noopener">
  <img src="media/${encodeURIComponent(t.taskUUID)}/${o.slot}?thumb=1" alt="output ${o.slot + 1} of task ${t.taskUUID}" loading="lazy" decoding="async"></a>`,
        )
      : html`<div class="placeholder">${placeholderText(t)}</div>`;
  const size = t.width && t.height ? `${t.width}×${t.height}` : '—';
  const error = t.failedSlots.length
    ? html`<ul class="error failed-slots">${t.failedSlots.map((f) => html`<li>slot ${f.slot}: <strong>${f.code}</strong>: ${f.message}</li>`)}</ul>`
    : t.providerError
      ? html`<p class="error"><strong>${t.providerError.code}</strong>: ${t.providerError.message}</p>`
      : t.reason && t.state !== 'completed'
        ? html`<p class="error">${t.reason}</p>`
        : '';
  return html`<article class="card state-${t.state}" data-task="${t.taskUUID}" data-state="${t.state}">
<div class="thumbs n${Math.min(t.outputs.length, 4)}">${thumbs}</div>
<div class="meta">
  <p class="status"><span class="badge badge-${t.state}">${t.state}</span>${t.overdue ? html` <span class="badge badge-overdue" title="results were due ${formatTime(t.dueAt)}">overdue${t.overdueForMs !== null ? ` ${formatDuration(t.overdueForMs)}` : ''}${t.waitingFor ? ` · ${t.waitingFor}` : ''}</span>` : ''}
    ${t.jobState !== t.state ? html`<span class="muted" title="BullMQ job state">job ${t.jobState === 'unknown' ? 'removed' : t.jobState}</span>` : ''}</p>
  <p class="prompt">${t.positivePrompt ?? '(prompt no longer in the queue)'}</p>
  <dl>
    <dt>Size</dt><dd>${size}</dd>
    <dt>Seed</dt><dd>${seeds(t)}</dd>
    <dt>Cost</dt><dd>${t.state === 'completed' || t.cost > 0 ? formatUsd(t.cost) : '—'}</dd>
    <dt>Queued</dt><dd><time datetime="${isoTime(t.enqueuedAt)}">${formatTime(t.enqueuedAt)}</time></dd>
    <dt>Wait</dt><dd>${formatDuration(between(t.enqueuedAt, t.submittedAt))}</dd>
    <dt>Run</dt><dd>${t.submittedAt ? formatDuration(between(t.submittedAt, t.finishedAt)) : '—'}</dd>
  </dl>
  ${error}
  <p class="uuid"><a href="tasks/${encodeURIComponent(t.taskUUID)}"><code>${t.taskUUID}</code></a></p>
</div>
</article>`;
}

function placeholderText(t: DashboardTask): string {
  if (t.state === 'failed') return 'failed';
  if (t.state === 'partial') return 'slot failed';
  if (t.state === 'cancelled') return 'cancelled';
  if (t.state === 'submitted') return t.overdue ? 'overdue' : 'generating…';
  if (t.state === 'submitting') return 'submitting…';
  return t.state === 'completed' ? 'no outputs' : 'queued';
}

/** The requested seed, and the seeds the provider reported when they differ (random seed requests). */
function seeds(t: DashboardTask): string {
  const reported = [...new Set(t.outputs.map((o) => o.seed).filter((s): s is string => s !== undefined))];
  // Without the job (removed on cancel, or past retention) the requested seed is unknown, not random.
  if (reported.length === 0) return t.seed ?? (t.jobState === 'unknown' ? '—' : 'random');
  return reported.join(', ');
}
