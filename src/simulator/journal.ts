// The simulator's memory on disk, for a demo that restarts (`stateFile` option): every accepted task and
// every finished item is appended as one JSON line. On start the journal is replayed: finished items
// (and their images) are back for getResponse and GET /image, and unfinished items are generated then.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type ProviderTask, parseLossless } from '../contract/index.js';
import type { GeneratedResult } from './generated-result.js';
import { writeJson } from './provider-errors.js';
import type { ImageSpec } from './render-image.js';
import type { DeliveryMethod, ItemState } from './task-store.js';

export type JournalEntry =
  | { kind: 'task'; task: ProviderTask; deliveryMethod: DeliveryMethod }
  | {
      kind: 'item';
      taskUUID: string;
      index: number;
      state: ItemState;
      result: GeneratedResult;
      spec?: ImageSpec;
      ttl?: number;
    };

export class Journal {
  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
  }

  append(entry: JournalEntry): void {
    appendFileSync(this.file, `${writeJson(entry)}\n`);
  }

  /** Every entry written so far; a torn last line (killed mid-write) is skipped. */
  read(): JournalEntry[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const out: JournalEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(parseLossless(line) as JournalEntry);
      } catch {
        /* torn line */
      }
    }
    return out;
  }
}
