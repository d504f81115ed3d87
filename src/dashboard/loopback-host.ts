// Whether an address or Host header names this machine only (127.0.0.0/8, ::1, localhost).
// Decides if the dashboard may run without a token, and which Host headers an open dashboard accepts.
import { isIP } from 'node:net';

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped), `localhost` and `*.localhost`. */
export function isLoopbackAddress(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    return mapped?.[1]?.startsWith('127.') === true;
  }
  return false;
}

/** The host part of a Host header (`[::1]:8787` → `::1`, `localhost:80` → `localhost`). */
export function hostOfHeader(header: string | undefined): string {
  if (!header) return '';
  if (header.startsWith('[')) return header.slice(1, header.indexOf(']'));
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}
