// The page's stylesheet and script, plain files in ./assets served from memory: no build step, no CDN.
// Read once at mount; a missing file fails the mount rather than serving a broken page later.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import { RelayError } from '../errors.js';

const ASSETS = {
  'dashboard.css': 'text/css; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
} as const;
const CACHE_CONTROL = 'no-cache';

/** Beside this module (tsx, or a build that copied assets), else the source tree (a build that did not). */
function assetsDir(): string {
  const candidates = [
    new URL('./assets/', import.meta.url),
    new URL('../../src/dashboard/assets/', import.meta.url),
  ];
  for (const c of candidates) {
    const dir = fileURLToPath(c);
    if (existsSync(`${dir}dashboard.js`)) return dir;
  }
  throw new RelayError(
    'DASHBOARD_ASSETS_MISSING',
    `dashboard assets not found (looked in ${candidates.join(', ')})`,
  );
}

export function mountAssets(router: Router): void {
  const dir = assetsDir();
  for (const [name, type] of Object.entries(ASSETS)) {
    const body = readFileSync(`${dir}${name}`);
    router.get(`/assets/${name}`, (_req, res) => {
      res
        .set({ 'content-type': type, 'cache-control': CACHE_CONTROL, 'x-content-type-options': 'nosniff' })
        .send(body);
    });
  }
}
