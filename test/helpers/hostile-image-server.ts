// A node:http server on 127.0.0.1 that answers result fetches the way a hostile or broken host might:
// a real image, HTML, fake JPEG bytes, oversized bodies (declared and streamed), and redirects to any
// URL. Counts requests per path, so a test can prove a refused URL was never fetched.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

/** The tests' tasks ask for 1024×1024, and a stored output must be the task's size. */
const IMAGE_SIDE = 1024;
const STREAM_CHUNK = 64 * 1024;

export interface HostileServer {
  url: string;
  port: number;
  host: string;
  /** The exact bytes of /ok.jpg. */
  image: Buffer;
  hits(path: string): number;
  totalHits(): number;
  close(): Promise<void>;
}

/** Routes: /ok.jpg, /not-image, /fake.jpg, /big (Content-Length), /big-stream (chunked), /redirect?to=URL. */
export async function startHostileServer(opts: { bigBytes: number }): Promise<HostileServer> {
  const image = await sharp({
    create: { width: IMAGE_SIDE, height: IMAGE_SIDE, channels: 3, background: { r: 200, g: 40, b: 90 } },
  })
    .jpeg()
    .toBuffer();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    hits.set(u.pathname, (hits.get(u.pathname) ?? 0) + 1);
    switch (u.pathname) {
      case '/ok.jpg':
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
        return;
      case '/not-image':
        res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>not an image</body></html>');
        return;
      case '/fake.jpg':
        res
          .writeHead(200, { 'content-type': 'image/jpeg' })
          .end(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.alloc(4096, 7)]));
        return;
      case '/big':
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': opts.bigBytes });
        res.end(Buffer.alloc(opts.bigBytes, 1));
        return;
      case '/big-stream': {
        res.writeHead(200, { 'content-type': 'image/jpeg' }); // chunked: no declared length
        let sent = 0;
        const push = () => {
          while (sent < opts.bigBytes) {
            sent += STREAM_CHUNK;
            if (!res.write(Buffer.alloc(STREAM_CHUNK, 2))) return void res.once('drain', push);
          }
          res.end();
        };
        res.on('error', () => {});
        push();
        return;
      }
      case '/redirect':
        res.writeHead(302, { location: u.searchParams.get('to') ?? '/' }).end();
        return;
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    host: `127.0.0.1:${port}`,
    image,
    hits: (path) => hits.get(path) ?? 0,
    totalHits: () => [...hits.values()].reduce((a, b) => a + b, 0),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
