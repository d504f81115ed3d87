// kontext-relay dashboard charts: draws the server's chart data (#chart-data) with the local uPlot, and
// redraws on live updates — the batch page's stream (relayed by dashboard.js as a 'kr:charts' event) or
// the overview's own stream. Captions are updated with textContent only. No build step.
(() => {
  const dataEl = document.getElementById('chart-data');
  if (!dataEl || !window.uPlot) return;
  const uPlot = window.uPlot;
  const HEIGHT = 180;
  const COLORS = { ok: '#1a7f37', bad: '#cf222e', run: '#0969da', warn: '#9a6700', poll: '#8250df' };
  const plots = {};

  function width(fig) {
    return Math.max(240, fig.querySelector('.plot').clientWidth || 480);
  }

  function latencyLabel(edges, i) {
    if (i >= edges.length) return `> ${fmtMs(edges[edges.length - 1])}`;
    return `≤ ${fmtMs(edges[i])}`;
  }

  function fmtMs(ms) {
    return ms >= 60000 ? `${ms / 60000} min` : ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`;
  }

  function specs(d) {
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 60] }) : undefined;
    const bins = d.latencyCounts.map((_, i) => i);
    const spendSeries = [{}, { label: 'spend $', stroke: COLORS.warn, width: 2 }];
    const spendData = [d.t, d.spend];
    if (d.budgetUsd !== null) {
      spendSeries.push({ label: 'budget $', stroke: COLORS.bad, dash: [6, 4] });
      spendData.push(d.t.map(() => d.budgetUsd));
    }
    return {
      throughput: {
        series: [
          {},
          { label: 'completed', stroke: COLORS.ok, fill: `${COLORS.ok}55`, paths: bars },
          { label: 'failed', stroke: COLORS.bad, fill: `${COLORS.bad}55`, paths: bars },
        ],
        data: [d.t, d.completed, d.failed],
      },
      inflight: {
        series: [{}, { label: 'in flight', stroke: COLORS.run, fill: `${COLORS.run}22`, width: 2 }],
        data: [d.t, d.inFlight],
      },
      latency: {
        time: false,
        series: [
          { label: 'latency' },
          { label: 'results', stroke: COLORS.run, fill: `${COLORS.run}55`, paths: bars },
        ],
        data: [bins, d.latencyCounts],
        axes: [{ values: (_u, ticks) => ticks.map((i) => latencyLabel(d.latencyEdgesMs, i)) }, {}],
      },
      arrivals: {
        time: false,
        series: [
          { label: 'via' },
          { label: 'results', stroke: COLORS.poll, fill: `${COLORS.poll}55`, paths: bars },
        ],
        data: [
          [0, 1],
          [d.webhook, d.poll],
        ],
        axes: [
          { values: (_u, ticks) => ticks.map((i) => (i === 0 ? 'webhook' : i === 1 ? 'poll' : '')) },
          {},
        ],
        x: { range: [-0.5, 1.5] },
      },
      spend: { series: spendSeries, data: spendData },
    };
  }

  function draw(d) {
    const all = specs(d);
    for (const fig of document.querySelectorAll('[data-chart]')) {
      const name = fig.dataset.chart;
      const s = all[name];
      if (!s) continue;
      const old = plots[name];
      if (old && old.series.length === s.series.length) {
        old.setData(s.data);
        continue;
      }
      if (old) old.destroy();
      const opts = {
        width: width(fig),
        height: HEIGHT,
        series: s.series,
        scales: { x: { time: s.time !== false, ...(s.x ? { range: s.x.range } : {}) } },
        legend: { show: true },
        ...(s.axes ? { axes: s.axes } : {}),
      };
      plots[name] = new uPlot(opts, s.data, fig.querySelector('.plot'));
    }
    fig('[data-total="completed"]', d.totals.completed);
    fig('[data-total="failed"]', d.totals.failed);
    fig('[data-total="inflight"]', d.inFlight[d.inFlight.length - 1] ?? 0);
    fig('[data-total="results"]', d.totals.results);
    fig('[data-total="webhook"]', d.webhook);
    fig('[data-total="poll"]', d.poll);
    fig('[data-total="spend"]', `$${Number(d.totals.spend).toFixed(4)}`);
    document.querySelector('[data-charts]')?.setAttribute('data-drawn', String(Date.now()));
  }

  function fig(selector, value) {
    for (const el of document.querySelectorAll(selector)) el.textContent = String(value);
  }

  draw(JSON.parse(dataEl.textContent));
  document.addEventListener('kr:charts', (e) => draw(e.detail));
  if (document.body.dataset.page === 'overview' && 'EventSource' in window) {
    const stream = new EventSource('api/overview/stream');
    stream.addEventListener('charts', (ev) => draw(JSON.parse(ev.data)));
  }
})();
