// An s3rver that can go away and come back on the SAME port and directory, so objects and buckets
// survive the outage and clients keep their endpoint. The directory is removed only by stop().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { freePort } from './free-port.js';

export interface RestartableS3 {
  endpoint: string;
  port: number;
  dir: string;
  readonly up: boolean;
  /** Close the server: new connections are refused until start(). */
  down(): Promise<void>;
  /** Start it again on the same port and directory. */
  start(): Promise<void>;
  /** For good: close it and delete its directory. */
  stop(): Promise<void>;
}

export async function startRestartableS3(opts: { port?: number } = {}): Promise<RestartableS3> {
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'kr-s3r-'));
  let server: S3rver | undefined;
  const launch = async () => {
    const s = new S3rver({ port, address: '127.0.0.1', silent: true, directory: dir });
    await s.run();
    server = s;
  };
  const close = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    // Node's close() also ends idle keep-alive sockets; requests in flight are cut short.
    const http = (s as unknown as { httpServer?: import('node:http').Server }).httpServer;
    const closed = s.close();
    http?.closeAllConnections();
    await closed;
  };
  await launch();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    dir,
    get up() {
      return server !== undefined;
    },
    down: close,
    async start() {
      if (!server) await launch();
    },
    async stop() {
      await close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
