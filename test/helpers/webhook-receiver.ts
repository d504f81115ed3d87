// An event-webhook receiver as a careful user writes one: verifies every request with the
// `standardwebhooks` package, deduplicates by webhook-id (a repeat is answered 200 and not kept again),
// and can be taken down and brought back on the same port.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedEvent {
  webhookId: string;
  body: { type: string; data: { eventId: string } & Record<string, unknown> };
}

export interface VerifyingReceiver {
  url: string;
  /** One entry per webhook-id, first copy kept. */
  kept: Map<string, ReceivedEvent>;
  /** Requests whose signature did not verify. */
  invalid: number;
  /** Verified requests whose webhook-id was already kept. */
  duplicates: number;
  down(): Promise<void>;
  up(): Promise<void>;
}

export async function startVerifyingReceiver(secret: string): Promise<VerifyingReceiver> {
  const wh = new Webhook(secret);
  const r: VerifyingReceiver = {
    url: '',
    kept: new Map(),
    invalid: 0,
    duplicates: 0,
    down: async () => {},
    up: async () => {},
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString();
    });
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      let body: ReceivedEvent['body'];
      try {
        body = wh.verify(raw, headers) as ReceivedEvent['body'];
      } catch {
        r.invalid++;
        res.writeHead(401).end();
        return;
      }
      const id = headers['webhook-id']!;
      if (r.kept.has(id)) r.duplicates++;
      else r.kept.set(id, { webhookId: id, body });
      res.writeHead(200).end();
    });
  };
  let server: Server = createServer(handler);
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${port}/hooks`;
  r.down = async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  };
  r.up = async () => {
    server = createServer(handler);
    await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  };
  return r;
}
