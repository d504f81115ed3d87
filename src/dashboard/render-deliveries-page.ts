// The outgoing delivery log (/deliveries): per endpoint its health (enabled or disabled, delivered,
// failed, failing in a row), its latest attempts (status, latency, response code), its dead letters, and
// the operator's actions: re-enable, and replay from a cursor with the original webhook-ids.
import type { AttemptRecord, EndpointHealth } from '../events/outgoing/delivery-log.js';
import type { Delivery } from '../events/outgoing/delivery-store.js';
import { formatTime } from './format-values.js';
import { html, type SafeHtml } from './safe-html.js';

export interface EndpointView {
  health: EndpointHealth;
  attempts: AttemptRecord[];
  dead: Delivery[];
  /** Deliveries still scheduled; null when too many to count per endpoint. */
  pending: number | null;
}

export function renderDeliveriesPage(endpoints: readonly EndpointView[]): SafeHtml {
  const body =
    endpoints.length === 0
      ? html`<p class="empty">No event webhook has been attempted yet (set EVENTS_WEBHOOK_URL and EVENTS_WEBHOOK_SECRET, or give a batch a callback URL).</p>`
      : endpoints.map(renderEndpoint);
  return html`<h1>Event deliveries</h1>
<p class="muted">Every attempt per endpoint (latest first), what was given up, and replay: events are sent again with their original <code>webhook-id</code>, so receivers that deduplicate keep one copy.</p>
<p class="result" role="status" id="action-result"></p>
${body}`;
}

function renderEndpoint(e: EndpointView): SafeHtml {
  const h = e.health;
  const state = h.disabledAt
    ? html`<span class="badge badge-failed" data-endpoint-state="disabled">disabled ${formatTime(h.disabledAt)}</span>`
    : html`<span class="badge badge-completed" data-endpoint-state="enabled">enabled</span>`;
  const oldestDead = e.dead.at(-1)?.eventId ?? '';
  const attempts = e.attempts.map(
    (
      a,
    ) => html`<tr class="${a.ok ? 'ok' : 'bad'}"><td><time>${formatTime(a.at)}</time></td><td><code>${a.eventId}</code></td><td>${a.type}</td><td>${a.attempt}</td>
<td data-col="status">${a.status ?? '—'}</td><td>${a.latencyMs} ms</td><td>${a.ok ? 'delivered' : a.error}</td></tr>`,
  );
  const dead = e.dead.map(
    (d) =>
      html`<tr><td><code>${d.eventId}</code></td><td>${d.type}</td><td>${d.attempts}</td><td>${d.lastError ?? ''}</td><td><code>${d.id}</code></td></tr>`,
  );
  return html`<section class="endpoint" data-endpoint="${h.url}">
<h2><code>${h.url}</code> ${state}</h2>
<dl class="facts">
  <dt>Delivered</dt><dd data-field="delivered">${h.delivered}</dd>
  <dt>Failed attempts</dt><dd data-field="failed">${h.failed}</dd>
  <dt>Failing in a row</dt><dd>${h.consecutiveFailures}</dd>
  <dt>Retrying</dt><dd>${e.pending ?? 'many'}</dd>
  <dt>Dead letters</dt><dd data-field="dead">${e.dead.length}</dd>
  <dt>Last attempt</dt><dd>${formatTime(h.lastAttemptAt)}</dd>
</dl>
<div class="actions">
  <button type="button" class="action" data-action="enable-endpoint" data-endpoint="${h.url}"${h.disabledAt ? '' : html` disabled`}>Re-enable</button>
  <label>Replay from <input type="text" name="from" value="${oldestDead}" placeholder="event id or ISO time" data-replay-from></label>
  <button type="button" class="action" data-action="replay-endpoint" data-endpoint="${h.url}">Replay</button>
</div>
<h3>Attempts</h3>
<table class="log attempts"><thead><tr><th>Time</th><th>Event</th><th>Type</th><th>#</th><th>Code</th><th>Latency</th><th>Result</th></tr></thead><tbody>${attempts}</tbody></table>
<h3>Dead letters</h3>
${e.dead.length === 0 ? html`<p class="muted">None.</p>` : html`<table class="log dead"><thead><tr><th>Event</th><th>Type</th><th>Attempts</th><th>Last error</th><th>webhook-id</th></tr></thead><tbody>${dead}</tbody></table>`}
</section>`;
}
