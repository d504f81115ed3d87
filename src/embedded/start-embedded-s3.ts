// For the one-command start: an embedded S3-protocol server (s3rver) storing under the data dir,
// used when S3_ENDPOINT is not set. Objects live in <dataDir>/s3/<bucket>/. It listens on `port` (the
// one recorded from the last run) when that is free, else on any free port.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import S3rver from 's3rver';
import { isPortFree } from './free-port.js';

export interface EmbeddedS3 {
  endpoint: string;
  port: number;
  directory: string;
  stop(): Promise<void>;
}

export async function startEmbeddedS3(dataDir: string, bucket: string, port = 0): Promise<EmbeddedS3> {
  const directory = resolve(dataDir, 's3');
  mkdirSync(directory, { recursive: true });
  const start = async (p: number) => {
    const server = new S3rver({
      port: p,
      address: '127.0.0.1',
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    return { server, addr: await server.run() };
  };
  // s3rver reports a taken port as an uncaught 'error' event, not a rejection: look first.
  const { server, addr } = await start(port !== 0 && (await isPortFree(port)) ? port : 0);
  return {
    endpoint: `http://127.0.0.1:${addr.port}`,
    port: addr.port,
    directory,
    stop: () => server.close(),
  };
}
