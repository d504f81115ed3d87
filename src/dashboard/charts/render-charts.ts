// The charts section: one figure per chart with a caption in numbers (readable without script), and the
// data as JSON in a non-executed <script type="application/json"> for the local uPlot script to draw.
import { formatUsd } from '../format-values.js';
import { html, SafeHtml } from '../safe-html.js';
import { CHART_HEAD } from './chart-assets.js';
import type { ChartData } from './chart-data.js';

/** JSON safe inside a script element: no `<`, so no `</script>` can end it early. */
export function jsonForScript(value: unknown): SafeHtml {
  return new SafeHtml(JSON.stringify(value).replace(/</g, '\\u003c'));
}

export function bucketLabel(ms: number): string {
  return ms >= 60_000 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}

export function renderCharts(d: ChartData, scope: string): SafeHtml {
  const bucket = bucketLabel(d.bucketMs);
  const arrivals = d.webhook + d.poll;
  const webhookShare = arrivals ? Math.round((d.webhook / arrivals) * 100) : 0;
  return html`<section class="charts" aria-label="charts of ${scope}" data-charts>
<figure data-chart="throughput"><figcaption>Completions and failures per ${bucket}: <span data-total="completed">${d.totals.completed}</span> completed, <span data-total="failed">${d.totals.failed}</span> failed</figcaption><div class="plot"></div></figure>
<figure data-chart="inflight"><figcaption>In flight at the provider (per ${bucket}): now <span data-total="inflight">${d.inFlight.at(-1) ?? 0}</span></figcaption><div class="plot"></div></figure>
<figure data-chart="latency"><figcaption>Provider latency, submitted → result: <span data-total="results">${d.totals.results}</span> results</figcaption><div class="plot"></div></figure>
<figure data-chart="arrivals"><figcaption>Results by webhook vs poll: <span data-total="webhook">${d.webhook}</span> webhook, <span data-total="poll">${d.poll}</span> poll (${webhookShare}% webhook)</figcaption><div class="plot"></div></figure>
<figure data-chart="spend"><figcaption>Spend over time: <span data-total="spend">${formatUsd(d.totals.spend)}</span>${d.budgetUsd === null ? ' (no budget)' : html` of a ${formatUsd(d.budgetUsd)} budget`}</figcaption><div class="plot"></div></figure>
<script type="application/json" id="chart-data">${jsonForScript(d)}</script>
${new SafeHtml(CHART_HEAD)}
</section>`;
}
