// The page shell every dashboard page shares: head, navigation, the queue banner (paused, why, resume),
// and the one local script. Links are relative to <base href>, so the dashboard works under any base path.
import type { QueueSummary } from './read-batch-view.js';
import { html, SafeHtml } from './safe-html.js';

export interface LayoutInput {
  title: string;
  basePath: string;
  queue: QueueSummary;
  body: SafeHtml;
  /** data-* attributes for the client script (page kind, batch id). */
  data: Record<string, string>;
}

export function renderLayout(p: LayoutInput): string {
  const attrs = Object.entries(p.data).map(([k, v]) => html` data-${k}="${v}"`);
  return `<!doctype html>\n${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<base href="${p.basePath}">
<title>${p.title} · kontext-relay</title>
<link rel="stylesheet" href="assets/dashboard.css">
<script src="assets/dashboard.js" defer></script>
</head>
<body${attrs}>
<header class="top">
  <a class="brand" href="./">kontext-relay</a>
  <nav><a href="./">Batches</a><a href="overview">Overview</a><a href="deliveries">Deliveries</a><a href="audit">Audit</a><a href="admin/queues/">Queue (bull-board)</a></nav>
</header>
${renderQueueBanner(p.queue)}
<main>
${p.body}
</main>
</body>
</html>`}\n`;
}

/**
 * Elements carrying data-queue="<field>" are refreshed by the client from the stream's queue summary;
 * the paused notice is always present and hidden while the queue runs.
 */
export function renderQueueBanner(q: QueueSummary): SafeHtml {
  const c = q.counts;
  return html`<section id="queue-banner" class="queue" aria-label="queue">
<div class="paused" role="alert" data-queue-paused${q.paused ? '' : new SafeHtml(' hidden')}>
  <strong>Queue paused.</strong>
  <span>Reason:</span> <span class="paused-reason" data-queue="pausedReason">${q.pausedReason ?? 'none recorded (paused by hand?)'}</span>
  <button type="button" class="action" data-action="resume-queue">Resume queue</button>
</div>
<p class="queue-counts">
  Queue: <span data-queue="waiting">${c.waiting ?? 0}</span> waiting ·
  <span data-queue="active">${c.active ?? 0}</span> submitting or storing ·
  <span data-queue="delayed">${c.delayed ?? 0}</span> parked (in flight or backing off) ·
  <span data-queue="overdue">${q.overdue}</span> overdue ·
  <span data-queue="failed">${c.failed ?? 0}</span> failed jobs ·
  webhooks lost <span data-queue="webhookLoss">${formatLoss(q.webhooks.lossRatio)}</span><span data-queue="pollFirst">${q.webhooks.mode === 'poll-first' ? ' (poll-first)' : ''}</span>
</p>
</section>`;
}

/** The recent share of results that only polling delivered, e.g. "3%" ("—" before any result). */
export function formatLoss(ratio: number | null): string {
  return ratio === null ? '—' : `${Math.round(ratio * 100)}%`;
}
