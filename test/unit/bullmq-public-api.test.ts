// BullMQ is reached through its public API only: no raw reads of its job hashes, no getBackend().client,
// no hand-built Job objects. A scan of the sources keeps it so.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const FORBIDDEN: [RegExp, string][] = [
  [/getBackend\(/, 'getBackend() (the raw client)'],
  [/new Job\(/, 'new Job(…)'],
  [/\bh(get|getall|mget)\([^)]*toKey\(/, 'a raw read of a job hash'],
  [/\bJob\.fromId\(/, 'Job.fromId (use Queue.getJob)'],
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('BullMQ through its public API', () => {
  it('no source file reaches into BullMQ internals', () => {
    const found: string[] = [];
    for (const file of sources('src')) {
      const text = readFileSync(file, 'utf8');
      for (const [re, what] of FORBIDDEN) if (re.test(text)) found.push(`${file}: ${what}`);
    }
    expect(found).toEqual([]);
  });
});
