// An OTLP/HTTP endpoint that accepts and discards spans, counting requests and bytes: the tracing
// benchmark's collector. It does no decoding, so its CPU (in the bench process) stays small.
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSink {
  url: string;
  requests: number;
  bytes: number;
  close(): Promise<void>;
}

export async function startOtlpSink(): Promise<OtlpSink> {
  const sink = { url: '', requests: 0, bytes: 0 } as OtlpSink;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      sink.bytes += c.length;
    });
    req.on('end', () => {
      sink.requests++;
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  sink.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return sink;
}
