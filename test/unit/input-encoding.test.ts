// Input encoding at the CLI's door (README "Input encoding"): UTF-8 only, a BOM dropped, bad bytes
// refused with their line (never replaced), and JSON nested beyond MAX_JSON_DEPTH refused by name.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJsonl } from '../../src/cli/read-jsonl.js';
import { JsonTooDeepError, MAX_JSON_DEPTH, nestingDepth, parseLossless } from '../../src/contract/index.js';
import { MalformedEntry } from '../../src/producer/enqueue-batch.js';

const dir = mkdtempSync(join(tmpdir(), 'kr-encoding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(bytes: Buffer) {
  const path = join(dir, `f${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(path, bytes);
  const out: { line: number; task: unknown }[] = [];
  for await (const e of readJsonl(path)) out.push(e);
  return out;
}

const line = (prompt: string) => `{"positivePrompt":"${prompt}","width":1024,"height":1024}`;

describe('reading a JSONL file', () => {
  it('drops a UTF-8 byte order mark before the first line', async () => {
    const out = await read(
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line('first')}\n`)]),
    );
    expect(out).toEqual([{ line: 1, task: { positivePrompt: 'first', width: 1024, height: 1024 } }]);
  });

  it('refuses a line that is not UTF-8, naming the line and the byte, and reads the others intact', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"positivePrompt":"caf'),
      Buffer.from([0xe9]),
      Buffer.from('"}'),
    ]);
    const out = await read(
      Buffer.concat([Buffer.from(`${line('one')}\n\n`), bad, Buffer.from(`\n${line('four')}\n`)]),
    );
    expect(out.map((e) => e.line)).toEqual([1, 3, 4]);
    expect(out[1]!.task).toBeInstanceOf(MalformedEntry);
    expect((out[1]!.task as MalformedEntry).message).toBe('not valid UTF-8 (byte 23 of the line is 0xe9)');
    expect(out[2]!.task).toMatchObject({ positivePrompt: 'four' });
  });

  it('a character cut at the end of a line is refused too, never replaced with U+FFFD', async () => {
    // The first two bytes of € (e2 82 ac), then the line ends.
    const bytes = Buffer.concat([Buffer.from('{"positivePrompt":"ab'), Buffer.from([0xe2, 0x82, 0x0a])]);
    const [e] = await read(bytes);
    expect(e!.task).toBeInstanceOf(MalformedEntry);
    expect((e!.task as MalformedEntry).message).toBe('not valid UTF-8 (byte 22 of the line is 0xe2)');
  });

  it('multi-byte characters split across read chunks arrive whole; CRLF line ends are accepted', async () => {
    const prompt = `${'€'.repeat(30_000)}🦊`; // 90 kB of 3-byte characters: several 64 kB stream chunks
    const out = await read(Buffer.from(`${line(prompt)}\r\n${line('second')}\r\n`));
    expect(out.map((e) => (e.task as { positivePrompt: string }).positivePrompt)).toEqual([prompt, 'second']);
  });

  it('a line that is not JSON is reported with its number', async () => {
    const out = await read(Buffer.from(`${line('one')}\n{"positivePrompt": oops}\n`));
    expect(out[1]).toMatchObject({ line: 2, task: expect.any(MalformedEntry) });
  });
});

describe('JSON nesting depth', () => {
  it('counts [ and { outside strings only', () => {
    expect(nestingDepth('{"a":[[1]],"b":"[[[[{{{{"}')).toBe(3);
    expect(nestingDepth('"\\"[["')).toBe(0);
  });

  it(`parses ${MAX_JSON_DEPTH} levels and refuses one more with JsonTooDeepError`, () => {
    const nest = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    expect(() => parseLossless(nest(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parseLossless(nest(MAX_JSON_DEPTH + 1))).toThrow(JsonTooDeepError);
    expect(() => parseLossless(`{"data":[{"v":${nest(10_000)}}]}`)).toThrow(/deeper than 64 levels/);
  });
});
