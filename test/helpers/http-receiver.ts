// A real HTTP endpoint on loopback that records every request: stands in for the relay's webhook
// server and for an upload target in the simulator's tests.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  at: number;
}

/** `status` picks each answer's status code (default 200); `nth` counts requests from 1. */
export async function startReceiver(status: (r: Received, nth: number) => number = () => 200) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        text: body.toString('utf8'),
        at: Date.now(),
      };
      received.push(r);
      res.statusCode = status(r, received.length);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    posts: () => received.filter((r) => r.method === 'POST'),
    puts: () => received.filter((r) => r.method === 'PUT'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
