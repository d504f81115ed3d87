// GET /image/:file: the image's bytes, or — when a body fault rolls for this GET — a damaged copy, or a
// body cut off before its declared Content-Length. Rolled per GET, so a client's re-fetch may get it whole.
import type { Response } from 'express';
import { CONTENT_TYPES, type OutputFormat } from '../contract/index.js';
import type { Faults } from './faults.js';
import type { SimulatorStats } from './stats.js';

/** shortContentLength sends this fraction of the body, then closes the connection. */
export const SHORT_BODY_FRACTION = 0.5;

export function serveImage(
  res: Response,
  bytes: Buffer,
  format: OutputFormat,
  faults: Faults,
  stats: SimulatorStats,
): void {
  if (faults.roll('shortContentLength')) {
    stats.imagesDamaged++;
    res.writeHead(200, { 'content-type': CONTENT_TYPES[format], 'content-length': String(bytes.length) });
    // The declared length stays; closing the socket is the only way to end a body early over HTTP/1.1.
    res.write(bytes.subarray(0, Math.floor(bytes.length * SHORT_BODY_FRACTION)), () => res.destroy());
    return;
  }
  const damaged = faults.rollDamage(bytes, format);
  if (damaged) stats.imagesDamaged++;
  res.type(CONTENT_TYPES[format]).send(damaged ?? bytes);
}
