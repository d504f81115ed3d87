// A real S3-protocol server on loopback (s3rver, the same embedded server `npm start` uses).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

export interface TestS3 {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function startS3(opts: { port?: number; buckets?: string[] } = {}): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'kr-s3-'));
  const server = new S3rver({
    port: opts.port ?? 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
  });
  const addr = await server.run();
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
