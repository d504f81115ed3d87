// Fetching result URLs from a real node:http server on loopback, under the SSRF guard. Connections are counted
// on the server, so "refused before any connection" is observed rather than assumed.
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputFetchError } from '../../src/errors.js';
import type { LookupAll } from '../../src/outputs/check-address.js';
import type { FetchPolicy } from '../../src/outputs/fetch-policy.js';
import { fetchUrl } from '../../src/outputs/fetch-url.js';
import { getOutputBytes } from '../../src/outputs/get-output-bytes.js';
import { createOutputDispatcher } from '../../src/outputs/guarded-dispatcher.js';

interface TestServer {
  server: Server;
  port: number;
  origin: string;
  connections: number;
}

const MAX_BYTES = 200_000;
/** Long enough that an attempted connection to an unroutable address would still be pending. */
const GENEROUS_TIMEOUT_MS = 20_000;
/** A refusal made before connecting answers in well under this. */
const FAST_MS = 1_500;

let main: TestServer;
let other: TestServer;
const img: Record<'jpeg' | 'png' | 'webp', Buffer> = {} as never;

async function startServer(): Promise<TestServer> {
  const s = { connections: 0 } as TestServer;
  s.server = createServer((req, res) => handle(req.url ?? '/', res, s));
  s.server.on('connection', () => {
    s.connections++;
  });
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.port = (s.server.address() as AddressInfo).port;
  s.origin = `http://127.0.0.1:${s.port}`;
  return s;
}

function handle(path: string, res: ServerResponse, s: TestServer): void {
  const [pathname, query = ''] = path.split('?');
  const params = new URLSearchParams(query);
  switch (pathname) {
    case '/img.jpg':
      res.writeHead(200, { 'content-type': 'image/jpeg' }).end(img.jpeg);
      return;
    case '/img.png':
      res.writeHead(200, { 'content-type': 'image/png' }).end(img.png);
      return;
    case '/img.webp':
      // A wrong content type: the bytes decide the format.
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(img.webp);
      return;
    case '/redirect':
      res.writeHead(302, { location: params.get('to') ?? '/img.png' }).end();
      return;
    case '/loop':
      res.writeHead(302, { location: `${s.origin}/loop` }).end();
      return;
    case '/huge':
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(MAX_BYTES * 5) });
      res.end(Buffer.alloc(MAX_BYTES * 5));
      return;
    case '/chunked-huge':
      streamChunks(res, MAX_BYTES * 5);
      return;
    case '/text':
      res.writeHead(200, { 'content-type': 'image/png' }).end('<html>definitely not a png</html>');
      return;
    case '/slow':
      // Headers and the first bytes of a PNG, then nothing: the body never completes.
      res.writeHead(200, { 'content-type': 'image/png' });
      res.write(img.png.subarray(0, 16));
      return;
    case '/silent':
      return; // never answers at all
    default: {
      const status = Number(pathname?.slice(1));
      res.writeHead(Number.isInteger(status) && status >= 400 ? status : 404).end('no');
    }
  }
}

function streamChunks(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'image/png' }); // no content-length: chunked
  const chunk = Buffer.concat([img.png.subarray(0, 8), Buffer.alloc(16 * 1024 - 8)]);
  let sent = 0;
  const pump = () => {
    while (sent < total && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('error', () => undefined);
  pump();
}

function policy(over: Partial<FetchPolicy> = {}): FetchPolicy {
  return {
    allowedHosts: [],
    allowPrivate: false,
    maxBytes: MAX_BYTES,
    timeoutMs: GENEROUS_TIMEOUT_MS,
    ...over,
  };
}

const item = (imageURL: string) => ({ taskUUID: 't-1', imageUUID: 'i-1', imageURL });

async function failure(p: Promise<unknown>): Promise<OutputFetchError & { ms: number }> {
  const started = Date.now();
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OutputFetchError);
  return Object.assign(e as OutputFetchError, { ms: Date.now() - started });
}

/** Play DNS for names only these tests know; anything else is NXDOMAIN. */
function fakeDns(answers: Record<string, string[] | (() => string[])>): LookupAll {
  return async (host) => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return (typeof a === 'function' ? a() : a).map((address) => ({
      address,
      family: address.includes(':') ? 6 : 4,
    }));
  };
}

beforeAll(async () => {
  const canvas = () => sharp({ create: { width: 64, height: 48, channels: 3, background: '#cc3333' } });
  img.jpeg = await canvas().jpeg().toBuffer();
  img.png = await canvas().png().toBuffer();
  img.webp = await canvas().webp().toBuffer();
  main = await startServer();
  other = await startServer();
});

afterAll(async () => {
  for (const s of [main, other]) {
    s.server.closeAllConnections();
    await new Promise((r) => s.server.close(r));
  }
});

describe('fetching a result URL', () => {
  it('fetches JPEG, PNG and WEBP from an explicitly allow-listed loopback host:port', async () => {
    const p = policy({ allowedHosts: [`127.0.0.1:${main.port}`] });
    const jpg = await getOutputBytes(item(`${main.origin}/img.jpg`), p);
    expect(jpg).toMatchObject({ format: 'JPG', contentType: 'image/jpeg', width: 64, height: 48 });
    expect(jpg.bytes.equals(img.jpeg)).toBe(true);
    expect((await getOutputBytes(item(`${main.origin}/img.png`), p)).format).toBe('PNG');
    const webp = await getOutputBytes(item(`${main.origin}/img.webp`), p);
    expect(webp).toMatchObject({ format: 'WEBP', contentType: 'image/webp' });
  });

  it('fetches from loopback when allowPrivate is set', async () => {
    const out = await getOutputBytes(item(`${main.origin}/img.png`), policy({ allowPrivate: true }));
    expect(out.bytes.equals(img.png)).toBe(true);
  });

  it('refuses loopback by default, without connecting', async () => {
    const before = main.connections;
    for (const url of [`${main.origin}/img.png`, `http://localhost:${main.port}/img.png`]) {
      const err = await failure(getOutputBytes(item(url), policy()));
      expect(err).toMatchObject({ code: 'OUTPUT_URL_FORBIDDEN', retryable: false });
    }
    expect(main.connections).toBe(before);
  });

  it('refuses metadata, private, link-local, CGNAT and IPv6 loopback targets before any connection', async () => {
    const targets = [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://10.0.0.1/img.png',
      'http://192.168.1.1/img.png',
      'http://172.20.0.1/img.png',
      'http://100.64.0.1/img.png',
      `http://[::1]:${main.port}/img.png`,
      `http://[::ffff:127.0.0.1]:${main.port}/img.png`,
      'http://[fe80::1]/img.png',
      'http://[fd00::1]/img.png',
      `http://0.0.0.0:${main.port}/img.png`,
      `http://0x7f000001:${main.port}/img.png`,
    ];
    const before = main.connections;
    for (const url of targets) {
      const err = await failure(getOutputBytes(item(url), policy()));
      expect(err.code, url).toBe('OUTPUT_URL_FORBIDDEN');
      // An attempt to reach an unroutable address would hang far longer than this.
      expect(err.ms, url).toBeLessThan(FAST_MS);
    }
    expect(main.connections).toBe(before);
  });

  it('refuses file:, ftp:, data: and other non-http schemes in imageURL', async () => {
    for (const url of [
      'file:///etc/passwd',
      'ftp://127.0.0.1/x.png',
      `data:image/png;base64,${img.png.toString('base64')}`,
    ]) {
      const err = await failure(getOutputBytes(item(url), policy({ allowPrivate: true })));
      expect(err.code, url).toBe('OUTPUT_URL_FORBIDDEN');
    }
  });

  it('a host:port entry does not cover another port of the same host', async () => {
    const before = other.connections;
    const err = await failure(
      getOutputBytes(item(`${other.origin}/img.png`), policy({ allowedHosts: [`127.0.0.1:${main.port}`] })),
    );
    expect(err.code).toBe('OUTPUT_URL_FORBIDDEN');
    expect(other.connections).toBe(before);
  });

  it('with a wildcard allow-list, a host outside it is refused', async () => {
    const err = await failure(
      getOutputBytes(
        item(`${main.origin}/img.png`),
        policy({ allowedHosts: ['*.runware.ai'], allowPrivate: true }),
      ),
    );
    expect(err.code).toBe('OUTPUT_URL_FORBIDDEN');
  });

  it('a wildcard match passes the allow-list but grants no private access', async () => {
    const lookup = fakeDns({ 'img.cdn.test': ['127.0.0.1'] });
    const url = `http://img.cdn.test:${main.port}/img.png`;
    const before = main.connections;
    const refused = await failure(fetchUrl(url, policy({ allowedHosts: ['*.cdn.test'] }), { lookup }));
    expect(refused.code).toBe('OUTPUT_URL_FORBIDDEN');
    expect(main.connections).toBe(before);

    const bytes = await fetchUrl(url, policy({ allowedHosts: ['*.cdn.test'], allowPrivate: true }), {
      lookup,
    });
    expect(bytes.equals(img.png)).toBe(true);
  });

  it('follows a redirect to an allowed image', async () => {
    const p = policy({ allowedHosts: [`127.0.0.1:${main.port}`] });
    const out = await getOutputBytes(item(`${main.origin}/redirect?to=/img.jpg`), p);
    expect(out.format).toBe('JPG');
  });

  it('refuses a redirect from an allowed host to a loopback target, without connecting to it', async () => {
    const p = policy({ allowedHosts: [`127.0.0.1:${main.port}`] });
    const before = other.connections;
    for (const to of [
      `${other.origin}/img.png`,
      `http://localhost:${other.port}/img.png`,
      'http://169.254.169.254/',
    ]) {
      const err = await failure(
        getOutputBytes(item(`${main.origin}/redirect?to=${encodeURIComponent(to)}`), p),
      );
      expect(err.code, to).toBe('OUTPUT_URL_FORBIDDEN');
    }
    expect(other.connections).toBe(before);
  });

  it('re-checks the address of every redirect hop, not only the allow-list', async () => {
    // The first host is explicitly listed (consent); the redirect target only matches a wildcard and
    // resolves to loopback, so it must be refused.
    const lookup = fakeDns({ 'cdn.example.test': ['127.0.0.1'], 'evil.example.test': ['127.0.0.1'] });
    const p = policy({ allowedHosts: [`cdn.example.test:${main.port}`, '*.example.test'] });
    const to = `http://evil.example.test:${main.port}/img.png`;
    const url = `http://cdn.example.test:${main.port}/redirect?to=${encodeURIComponent(to)}`;
    const err = await failure(fetchUrl(url, p, { lookup }));
    expect(err.code).toBe('OUTPUT_URL_FORBIDDEN');
    expect(err.message).toContain('evil.example.test');
  });

  it('a redirect to a file: URL is refused', async () => {
    const p = policy({ allowedHosts: [`127.0.0.1:${main.port}`] });
    const err = await failure(
      getOutputBytes(item(`${main.origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`), p),
    );
    expect(err.code).toBe('OUTPUT_URL_FORBIDDEN');
  });

  it('gives up after maxRedirects hops', async () => {
    const err = await failure(
      getOutputBytes(item(`${main.origin}/loop`), policy({ allowPrivate: true, maxRedirects: 2 })),
    );
    expect(err).toMatchObject({ code: 'OUTPUT_FETCH_FAILED', retryable: false });
    expect(err.message).toMatch(/redirect/);
  });

  it('refuses a body whose Content-Length exceeds the limit', async () => {
    const err = await failure(getOutputBytes(item(`${main.origin}/huge`), policy({ allowPrivate: true })));
    expect(err).toMatchObject({ code: 'OUTPUT_TOO_LARGE', retryable: false });
    expect(err.message).toContain(String(MAX_BYTES * 5));
  });

  it('stops reading a chunked body without length once it passes the limit', async () => {
    const err = await failure(
      getOutputBytes(item(`${main.origin}/chunked-huge`), policy({ allowPrivate: true })),
    );
    expect(err).toMatchObject({ code: 'OUTPUT_TOO_LARGE', retryable: false });
  });

  it('a body that is not an image is OUTPUT_NOT_IMAGE, whatever its content type says', async () => {
    const err = await failure(getOutputBytes(item(`${main.origin}/text`), policy({ allowPrivate: true })));
    expect(err).toMatchObject({ code: 'OUTPUT_NOT_IMAGE', retryable: false });
  });

  it('4xx is final (an expired URL stays expired); 5xx, 429 and refused connections are retryable', async () => {
    const p = policy({ allowPrivate: true });
    expect(await failure(getOutputBytes(item(`${main.origin}/404`), p))).toMatchObject({
      code: 'OUTPUT_FETCH_FAILED',
      retryable: false,
    });
    expect(await failure(getOutputBytes(item(`${main.origin}/403`), p))).toMatchObject({ retryable: false });
    expect(await failure(getOutputBytes(item(`${main.origin}/503`), p))).toMatchObject({
      code: 'OUTPUT_FETCH_FAILED',
      retryable: true,
    });
    expect(await failure(getOutputBytes(item(`${main.origin}/429`), p))).toMatchObject({ retryable: true });

    const closed = await startServer();
    const deadPort = closed.port;
    await new Promise((r) => closed.server.close(r));
    expect(await failure(getOutputBytes(item(`http://127.0.0.1:${deadPort}/img.png`), p))).toMatchObject({
      code: 'OUTPUT_FETCH_FAILED',
      retryable: true,
    });
  });

  it('a response that stalls mid-body times out as a retryable failure', async () => {
    const err = await failure(
      getOutputBytes(item(`${main.origin}/slow`), policy({ allowPrivate: true, timeoutMs: 300 })),
    );
    expect(err).toMatchObject({ code: 'OUTPUT_FETCH_FAILED', retryable: true });
    expect(err.message).toMatch(/timed out/);
    expect(err.ms).toBeLessThan(GENEROUS_TIMEOUT_MS);
  });

  it('a server that never answers times out as a retryable failure', async () => {
    const err = await failure(
      getOutputBytes(item(`${main.origin}/silent`), policy({ allowPrivate: true, timeoutMs: 300 })),
    );
    expect(err).toMatchObject({ code: 'OUTPUT_FETCH_FAILED', retryable: true });
  });
});

describe('the guarded dispatcher', () => {
  it('connects to the address it vetted, not to what the system resolver would say', async () => {
    // The system resolver knows nothing of this name: success proves the connection went to the checked IP.
    const lookup = fakeDns({ 'pinned.example.test': ['127.0.0.1'] });
    const p = policy({ allowedHosts: [`pinned.example.test:${main.port}`] });
    const bytes = await fetchUrl(`http://pinned.example.test:${main.port}/img.png`, p, { lookup });
    expect(bytes.equals(img.png)).toBe(true);
  });

  it('defeats DNS rebinding: a name that turns private between check and connect is refused', async () => {
    let answers = 0;
    // First answer (the pre-flight check) is public; the next (the connect) points at loopback.
    const lookup = fakeDns({
      'rebind.example.test': () => (answers++ === 0 ? ['93.184.216.34'] : ['127.0.0.1']),
    });
    const p = policy({ allowedHosts: ['*.example.test'] });
    const before = main.connections;
    const err = await failure(fetchUrl(`http://rebind.example.test:${main.port}/img.png`, p, { lookup }));
    expect(err.code).toBe('OUTPUT_URL_FORBIDDEN');
    expect(answers).toBe(2);
    expect(main.connections).toBe(before);
  });

  it('refuses by itself when used directly, so no caller can skip the check', async () => {
    const dispatcher = createOutputDispatcher(policy());
    const before = main.connections;
    try {
      const err = await request(`${main.origin}/img.png`, { dispatcher }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(OutputFetchError);
      expect((err as OutputFetchError).code).toBe('OUTPUT_URL_FORBIDDEN');
      expect(main.connections).toBe(before);
    } finally {
      await dispatcher.destroy();
    }
  });

  it('a shared dispatcher reuses one connection across fetches', async () => {
    const p = policy({ allowedHosts: [`127.0.0.1:${other.port}`] });
    const dispatcher = createOutputDispatcher(p);
    const before = other.connections;
    try {
      for (let i = 0; i < 3; i++) {
        expect((await getOutputBytes(item(`${other.origin}/img.jpg`), p, dispatcher)).format).toBe('JPG');
      }
      expect(other.connections - before).toBe(1);
    } finally {
      await dispatcher.destroy();
    }
  });
});
