// Relay configuration for a benchmark: loadConfig with every value the benchmark depends on spelled
// out (nothing read from the developer's environment), and the size knobs read from BENCH_* variables.
import { type Config, loadConfig } from '../../src/config/load-config.js';

/** A webhook secret only benchmarks use. */
export const BENCH_WEBHOOK_SECRET = 'bench-webhook-secret-0123456789-abcdefghijkl';
export const BENCH_API_KEY = 'bench-api-key';

export interface BenchTarget {
  redisUrl: string;
  queuePrefix: string;
  s3Endpoint?: string | undefined;
  bucket?: string;
  providerUrl?: string;
  /** host:port the worker may fetch results from (the simulator). */
  fetchHost?: string;
  port?: number;
}

/** Explicit env for the relay, also usable as a child process's environment. */
export function benchEnv(t: BenchTarget, extra: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: t.redisUrl,
    QUEUE_PREFIX: t.queuePrefix,
    QUEUE_NAME: 'bench',
    ...(t.s3Endpoint ? { S3_ENDPOINT: t.s3Endpoint } : {}),
    S3_BUCKET: t.bucket ?? `bench-${t.queuePrefix.toLowerCase()}`,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    ...(t.providerUrl ? { RUNWARE_API_URL: t.providerUrl, RUNWARE_API_KEY: BENCH_API_KEY } : {}),
    ...(t.fetchHost ? { FETCH_ALLOWED_HOSTS: t.fetchHost } : {}),
    HOST: '127.0.0.1',
    PORT: String(t.port ?? 0),
    ...(t.port ? { PUBLIC_URL: `http://127.0.0.1:${t.port}` } : {}),
    WEBHOOK_SECRET: BENCH_WEBHOOK_SECRET,
    DELIVERY_MODE: 'webhook',
    LOG_LEVEL: 'silent',
    // The benchmark's private Redis runs without persistence.
    ALLOW_EPHEMERAL_REDIS: 'true',
    ...extra,
  };
}

export function benchConfig(t: BenchTarget, extra: Record<string, string> = {}): Config {
  return loadConfig(benchEnv(t, extra));
}

/** A positive integer from BENCH_<name>, or the default. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer (got "${raw}")`);
  return n;
}
