// For the one-command start: an embedded S3-protocol server (s3rver) storing under the data dir,
// used when S3_ENDPOINT is not set. Objects live in <dataDir>/s3/<bucket>/.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import S3rver from 's3rver';

export interface EmbeddedS3 {
  endpoint: string;
  directory: string;
  stop(): Promise<void>;
}

export async function startEmbeddedS3(dataDir: string, bucket: string): Promise<EmbeddedS3> {
  const directory = resolve(dataDir, 's3');
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const addr = await server.run();
  return { endpoint: `http://127.0.0.1:${addr.port}`, directory, stop: () => server.close() };
}
