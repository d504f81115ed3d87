// The chart library and the chart script, served from this server: uPlot's files straight from
// node_modules (no CDN, no build step) and our charts.js beside dashboard.js.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { RelayError } from '../../errors.js';

const CACHE_CONTROL = 'no-cache';

function uplotDist(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}

function chartsScript(): string {
  for (const c of [
    new URL('../assets/charts.js', import.meta.url),
    new URL('../../../src/dashboard/assets/charts.js', import.meta.url),
  ]) {
    const path = fileURLToPath(c);
    if (existsSync(path)) return path;
  }
  throw new RelayError('DASHBOARD_ASSETS_MISSING', 'dashboard asset charts.js not found');
}

export function mountChartAssets(router: Router): void {
  const dist = uplotDist();
  const files: [string, string, string][] = [
    ['uplot.js', join(dist, 'uPlot.iife.min.js'), 'text/javascript; charset=utf-8'],
    ['uplot.css', join(dist, 'uPlot.min.css'), 'text/css; charset=utf-8'],
    ['charts.js', chartsScript(), 'text/javascript; charset=utf-8'],
  ];
  for (const [name, path, type] of files) {
    const body = readFileSync(path);
    router.get(`/assets/${name}`, (_req, res) => {
      res
        .set({ 'content-type': type, 'cache-control': CACHE_CONTROL, 'x-content-type-options': 'nosniff' })
        .send(body);
    });
  }
}

/** The tags a page with charts includes (stylesheet and deferred scripts, all from this server). */
export const CHART_HEAD =
  '<link rel="stylesheet" href="assets/uplot.css"><script src="assets/uplot.js" defer></script><script src="assets/charts.js" defer></script>';
