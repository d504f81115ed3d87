// The task page (/tasks/:taskUUID): prompt, every parameter (the seed exactly as stored), reference
// images, each slot with its output (full image, size, sha256, S3 key, cost, NSFW flag, outcome), the
// timeline, provider errors, and retry/cancel. Slot outcomes come from what the record holds: unknown
// states and extra per-slot fields are shown as they are, never dropped.
import { formatTime, formatUsd, isoTime } from './format-values.js';
import type { TaskView } from './read-task-view.js';
import { html, type SafeHtml } from './safe-html.js';

/** Record fields shown elsewhere on the page (the rest are listed under "Record"). */
const SHOWN_FIELDS = new Set([
  'state',
  'batchId',
  'submittedAt',
  'finishedAt',
  'createdAt',
  'reason',
  'providerError',
]);
const BYTES_PER_KIB = 1024;

/** `traceUrlTemplate`: TRACE_URL_TEMPLATE, e.g. `http://jaeger:16686/trace/{traceId}`; no link without it. */
export function renderTaskPage(v: TaskView, traceUrlTemplate?: string): SafeHtml {
  const t = v.status;
  const uuid = encodeURIComponent(t.taskUUID);
  const canRetry = t.state === 'failed';
  const canCancel = t.state === 'queued' || t.state === 'submitting' || t.state === 'submitted';
  const batch = t.batchId
    ? html`<a href="batches/${encodeURIComponent(t.batchId)}"><code>${t.batchId}</code></a>`
    : html`<span class="muted">none</span>`;
  return html`<h1>Task <code>${t.taskUUID}</code> <span class="badge badge-${t.state}" data-task-state>${t.state}</span></h1>
<section class="summary task-summary" data-task="${t.taskUUID}">
  <p class="prompt">${t.positivePrompt ?? '(prompt no longer in the queue)'}</p>
  <dl class="facts">
    <dt>Batch</dt><dd>${batch}</dd>
    <dt>Job</dt><dd>${t.jobState}</dd>
    <dt>Attempt</dt><dd>${v.attempt}</dd>
    <dt>Cost</dt><dd>${formatUsd(t.cost)}</dd>
    <dt>Polls</dt><dd>${v.polls}</dd>
    <dt>Due</dt><dd>${formatTime(v.dueAt)}${t.overdue ? html` <span class="badge badge-overdue">overdue</span>` : ''}</dd>
    ${renderTraceLink(v.traceId, traceUrlTemplate)}
  </dl>
  ${renderErrors(v)}
  <div class="actions">
    <button type="button" class="action" data-action="retry-task" data-task="${t.taskUUID}"${canRetry ? '' : html` disabled`}>Retry task</button>
    <button type="button" class="action danger" data-action="cancel-task" data-task="${t.taskUUID}" data-confirm="Cancel this task? If it was already submitted the provider still bills it."${canCancel ? '' : html` disabled`}>Cancel task</button>
    <p class="result" role="status" id="action-result"></p>
  </div>
</section>
<h2>Outputs</h2>
<section class="slots">${renderSlots(v)}</section>
<h2>Timeline</h2>
${renderTimeline(v)}
<h2>Parameters</h2>
${renderParams(v.params)}
<h2>Record</h2>
${renderRecord(v.record)}
<p class="muted"><a href="api/tasks/${uuid}">This task as JSON</a></p>`;
}

function renderTraceLink(traceId: string | undefined, template: string | undefined): SafeHtml | string {
  if (!traceId || !template) return '';
  const href = template.replaceAll('{traceId}', traceId);
  return html`<dt>Trace</dt><dd><a href="${href}" rel="noopener" target="_blank" data-trace-link><code>${traceId}</code></a></dd>`;
}

function renderErrors(v: TaskView): SafeHtml | string {
  const t = v.status;
  if (t.providerError)
    return html`<p class="error" data-provider-error><strong>${t.providerError.code}</strong>: ${t.providerError.message}</p>`;
  if (t.reason && t.state !== 'completed') return html`<p class="error">${t.reason}</p>`;
  return '';
}

/** Per-slot results a newer record may carry (any JSON array of {slot, …} in a record field). */
function recordedSlots(record: Record<string, string>): Map<number, Record<string, unknown>> {
  const out = new Map<number, Record<string, unknown>>();
  for (const value of Object.values(record)) {
    if (!value.startsWith('[') && !value.startsWith('{')) continue;
    try {
      const parsed: unknown = JSON.parse(value);
      const list = Array.isArray(parsed) ? parsed : Object.values(parsed as object);
      for (const x of list) {
        if (x && typeof x === 'object' && typeof (x as { slot?: unknown }).slot === 'number')
          out.set((x as { slot: number }).slot, x as Record<string, unknown>);
      }
    } catch {
      // not JSON: an ordinary field
    }
  }
  return out;
}

function renderSlots(v: TaskView): SafeHtml {
  const t = v.status;
  const recorded = recordedSlots(v.record);
  const slots = Math.max(t.expected, t.outputs.length, ...[...recorded.keys()].map((s) => s + 1), 0);
  const uuid = encodeURIComponent(t.taskUUID);
  const rows = Array.from({ length: slots }, (_, slot) => {
    const out = t.outputs.find((o) => o.slot === slot);
    const got = v.received.find((r) => r.slot === slot);
    const arrival = v.arrivals.find((a) => a.slot === slot);
    const rec = recorded.get(slot);
    const outcome = String(
      rec?.outcome ??
        rec?.state ??
        rec?.status ??
        (out ? 'stored' : got ? 'received' : pendingOutcome(t.state)),
    );
    const extra = rec
      ? Object.entries(rec).filter(([k]) => !['slot', 'outcome', 'state', 'status'].includes(k))
      : [];
    const image = out
      ? html`<a href="media/${uuid}/${slot}" target="_blank" rel="noopener"><img class="full" src="media/${uuid}/${slot}" alt="output ${slot + 1}" decoding="async"></a>`
      : html`<div class="placeholder">${outcome}</div>`;
    return html`<article class="slot" data-slot="${slot}" data-outcome="${outcome}">
${image}
<dl>
  <dt>Slot</dt><dd>${slot + 1}</dd>
  <dt>Outcome</dt><dd><span class="badge badge-${outcome}">${outcome}</span></dd>
  <dt>Arrived</dt><dd>${arrival ? `by ${arrival.via}, ${formatTime(arrival.at)}` : got ? formatTime(got.receivedAt) : '—'}</dd>
  <dt>Size</dt><dd>${out ? `${(out.size / BYTES_PER_KIB).toFixed(1)} KiB, ${out.contentType}` : '—'}</dd>
  <dt>sha256</dt><dd><code class="hash">${out?.sha256 ?? '—'}</code></dd>
  <dt>S3 key</dt><dd><code>${out ? `${out.bucket}/${out.key}` : '—'}</code></dd>
  <dt>Seed</dt><dd><code>${out?.seed ?? '—'}</code></dd>
  <dt>Cost</dt><dd>${out?.cost === undefined ? '—' : formatUsd(out.cost)}</dd>
  <dt>NSFW</dt><dd>${out?.NSFWContent === undefined ? 'not checked' : out.NSFWContent ? 'yes' : 'no'}</dd>
  ${extra.map(([k, val]) => html`<dt>${k}</dt><dd>${typeof val === 'string' ? val : JSON.stringify(val)}</dd>`)}
</dl>
</article>`;
  });
  return html`${rows}`;
}

function pendingOutcome(state: string): string {
  return state === 'submitted' || state === 'submitting' || state === 'queued'
    ? 'pending'
    : `none (${state})`;
}

interface Moment {
  at: number;
  what: string;
}

function renderTimeline(v: TaskView): SafeHtml {
  const t = v.status;
  const r = v.record;
  const m: Moment[] = [];
  if (t.enqueuedAt) m.push({ at: t.enqueuedAt, what: 'queued' });
  if (r.createdAt) m.push({ at: Number(r.createdAt), what: 'picked up by a worker' });
  if (t.submittedAt) m.push({ at: t.submittedAt, what: 'submitted to the provider' });
  for (const a of v.arrivals) m.push({ at: a.at, what: `result for slot ${a.slot + 1} by ${a.via}` });
  for (const g of v.received)
    if (!v.arrivals.some((a) => a.slot === g.slot))
      m.push({ at: g.receivedAt, what: `result for slot ${g.slot + 1} received` });
  for (const o of t.outputs) m.push({ at: o.storedAt, what: `slot ${o.slot + 1} stored in S3` });
  if (t.finishedAt)
    m.push({ at: t.finishedAt, what: `ended: ${t.state}${t.reason ? ` (${t.reason})` : ''}` });
  m.sort((a, b) => a.at - b.at);
  const start = m[0]?.at ?? 0;
  const items = m.map(
    (x) =>
      html`<li><time datetime="${isoTime(x.at)}">${formatTime(x.at)}</time> <span class="muted">+${((x.at - start) / 1000).toFixed(3)} s</span> ${x.what}</li>`,
  );
  const polls = v.polls > 0 ? html`<li class="muted">polled the provider ${v.polls} time(s)</li>` : '';
  return html`<ol class="timeline">${items}${polls}</ol>`;
}

function renderParams(params: Record<string, unknown> | null): SafeHtml {
  if (!params)
    return html`<p class="muted">The job is gone (past retention): parameters are no longer kept.</p>`;
  const refs = (params.inputs as { referenceImages?: unknown } | undefined)?.referenceImages;
  const rows = Object.entries(params)
    .filter(([k]) => k !== 'inputs')
    .map(
      ([k, val]) =>
        html`<tr><th>${k}</th><td><code>${typeof val === 'string' ? val : JSON.stringify(val)}</code></td></tr>`,
    );
  const refList = Array.isArray(refs)
    ? html`<h3>Reference images</h3><ul class="refs">${refs.map((ref) => html`<li>${renderReference(String(ref))}</li>`)}</ul>`
    : '';
  return html`<table class="params">${rows}</table>${refList}`;
}

/** Inline data is shown; a URL is shown as text only (loading it would reach outside this server). */
function renderReference(ref: string): SafeHtml {
  if (ref.startsWith('data:image/')) return html`<img class="ref" src="${ref}" alt="reference image">`;
  return html`<code>${ref.length > 200 ? `${ref.slice(0, 200)}…` : ref}</code>`;
}

function renderRecord(record: Record<string, string>): SafeHtml {
  const rows = Object.entries(record)
    .filter(([k]) => !SHOWN_FIELDS.has(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, val]) => html`<tr><th>${k}</th><td><code>${val}</code></td></tr>`);
  return html`<table class="params record">${rows}</table>`;
}
