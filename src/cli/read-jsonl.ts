// Reads tasks from a JSONL file or stdin, one per line, keeping line numbers for error messages.
// Blank lines are skipped; a line that is not JSON becomes a MalformedEntry the batch reports.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseLossless } from '../contract/index.js';
import { MalformedEntry, type SourcedTask } from '../producer/enqueue-batch.js';

export async function* readJsonl(path: string): AsyncGenerator<SourcedTask> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    try {
      yield { task: parseLossless(text), line };
    } catch (e) {
      yield { task: new MalformedEntry(`not valid JSON (${(e as Error).message})`), line };
    }
  }
}
