// One private Redis and one embedded S3 server for the whole run; tests isolate by key prefix and bucket.
import type { TestProject } from 'vitest/node';
import { startRedis } from './redis-server.js';
import { startS3 } from './s3-server.js';

export default async function setup(project: TestProject) {
  const redis = await startRedis();
  const s3 = await startS3();
  project.provide('redisUrl', redis.url);
  project.provide('s3Endpoint', s3.endpoint);
  return async () => {
    await s3.stop();
    await redis.stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    s3Endpoint: string;
  }
}
