// bull-board as an operator page of ours: a header link back to the results pages, and an index page
// that loads nothing from outside this server. bull-board's own index.ejs links a web font from a font
// CDN; a copy without that link (system fonts instead) is written once to a temp directory and used as
// the views directory. Its scripts and styles stay bull-board's, served from node_modules.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { createBullBoard } from '@bull-board/api';

type UIConfig = NonNullable<NonNullable<Parameters<typeof createBullBoard>[0]['options']>['uiConfig']>;

/** Any stylesheet or preconnect link to another origin. */
const REMOTE_LINK = /<link\b[^>]*href="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi;

export function offlineViewsDir(): string {
  const require = createRequire(import.meta.url);
  const ui = dirname(require.resolve('@bull-board/ui/package.json'));
  const original = readFileSync(join(ui, 'dist', 'index.ejs'), 'utf8');
  const patched = original.replace(REMOTE_LINK, '');
  const hash = createHash('sha256').update(patched).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `kontext-relay-bull-board-${hash}`);
  if (!existsSync(join(dir, 'index.ejs'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.ejs'), patched);
  }
  return dir;
}

/** The header of bull-board: our title, a link back to the results pages, no docs link to the web. */
export function bullBoardUiConfig(basePath: string): UIConfig {
  return {
    boardTitle: 'kontext-relay queue',
    hideDocsLink: true,
    miscLinks: [
      { text: '← Results (batches)', url: basePath },
      { text: 'Overview charts', url: `${basePath}overview` },
      { text: 'Event deliveries', url: `${basePath}deliveries` },
    ],
  };
}
