// Per-test isolation: a unique queue prefix and bucket, and a Config pointing at the run's services.
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { type Config, loadConfig } from '../../src/config/load-config.js';

export function uniqueId(tag = 't'): string {
  return `${tag}${randomBytes(4).toString('hex')}`;
}

/** A fresh secret or token that passes the service's policy (src/config/secret-policy.ts). */
export function testSecret(): string {
  return randomBytes(24).toString('base64url');
}

export function testRedisUrl(): string {
  return inject('redisUrl');
}

export function testS3Endpoint(): string {
  return inject('s3Endpoint');
}

/**
 * The environment of one test's relay (as a child process gets it): own prefix and bucket. The run's
 * private Redis has no persistence (tests start it fresh), so the relay is told to accept that;
 * test/integration/redis-persistence.test.ts proves the refusal without it.
 */
export function testEnv(env: Record<string, string> = {}): Record<string, string> {
  const id = uniqueId();
  return {
    REDIS_URL: testRedisUrl(),
    QUEUE_PREFIX: `kr-${id}`,
    S3_ENDPOINT: testS3Endpoint(),
    S3_BUCKET: `b-${id}`,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    WEBHOOK_SECRET: testSecret(),
    LOG_LEVEL: 'silent',
    ALLOW_EPHEMERAL_REDIS: 'true',
    ...env,
  };
}

/** A Config for one test: own prefix and bucket on the run's Redis and S3 server. */
export function testConfig(env: Record<string, string> = {}, overrides: Partial<Config> = {}): Config {
  return loadConfig(testEnv(env), overrides);
}
