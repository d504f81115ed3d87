// Reads tasks from a JSONL file or stdin, one per line, keeping line numbers for error messages.
// Encoding rules (README "Input encoding"): UTF-8 only; a leading byte order mark is dropped; a line
// with bytes that are not UTF-8 is refused with its number, never repaired with U+FFFD. LF or CRLF.
// Blank lines are skipped but counted; a line that is not JSON becomes a MalformedEntry the batch reports.
import { createReadStream } from 'node:fs';
import { parseLossless } from '../contract/index.js';
import { MalformedEntry, type SourcedTask } from '../producer/enqueue-batch.js';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const LF = 0x0a;
const CR = 0x0d;

export async function* readJsonl(path: string): AsyncGenerator<SourcedTask> {
  const input = path === '-' ? process.stdin : createReadStream(path);
  let line = 0;
  for await (const bytes of rawLines(input)) {
    line++;
    const body = line === 1 && bytes.subarray(0, BOM.length).equals(BOM) ? bytes.subarray(BOM.length) : bytes;
    const text = decodeUtf8(body);
    if (text === undefined) {
      yield { task: new MalformedEntry(`not valid UTF-8 (${badByteNote(body)})`), line };
      continue;
    }
    if (text.trim() === '') continue;
    try {
      yield { task: parseLossless(text), line };
    } catch (e) {
      yield { task: new MalformedEntry(`not valid JSON (${(e as Error).message})`), line };
    }
  }
}

/** The stream split on LF (a trailing CR dropped), as raw bytes: decoding happens per line. */
async function* rawLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0);
  for await (const chunk of input) {
    let buf = rest.length ? Buffer.concat([rest, toBuffer(chunk)]) : toBuffer(chunk);
    for (let nl = buf.indexOf(LF); nl >= 0; nl = buf.indexOf(LF)) {
      yield withoutCr(buf.subarray(0, nl));
      buf = buf.subarray(nl + 1);
    }
    rest = Buffer.from(buf);
  }
  if (rest.length > 0) yield withoutCr(rest);
}

function toBuffer(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

function withoutCr(b: Buffer): Buffer {
  return b.length > 0 && b[b.length - 1] === CR ? b.subarray(0, -1) : b;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The line's text, or undefined when its bytes are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Where the first bad character starts, 1-based within the line, for the error message. */
function badByteNote(bytes: Buffer): string {
  const d = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let pendingFrom: number | undefined; // start of a multi-byte character not yet complete
  let at = -1;
  for (let i = 0; i < bytes.length && at < 0; i++) {
    try {
      const out = d.decode(bytes.subarray(i, i + 1), { stream: true });
      if (out === '') pendingFrom ??= i;
      else pendingFrom = undefined;
    } catch {
      at = pendingFrom ?? i;
    }
  }
  if (at < 0) at = pendingFrom ?? bytes.length - 1; // the line ends inside a character
  return `byte ${at + 1} of the line is 0x${(bytes[at] ?? 0).toString(16).padStart(2, '0')}`;
}
