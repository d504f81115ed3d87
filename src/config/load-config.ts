// Environment → typed, frozen Config. Parsed once at start-up; every bad variable is reported at once,
// by name. This is the only module that reads process.env.
import { z } from 'zod';
import { ConfigError } from '../errors.js';

const flag = (d: boolean) => z.stringbool().default(d);
const ms = (d: number) => z.coerce.number().int().positive().default(d);
const csv = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

export const configSchema = z
  .object({
    REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
    REDIS_CLUSTER_NODES: csv,
    /** Start although Redis has no AOF/RDB persistence (or it cannot be told): see README "Guarantees". */
    ALLOW_EPHEMERAL_REDIS: flag(false),
    /** How often each process checks that Redis still holds its data (the epoch key). */
    EPOCH_CHECK_MS: ms(5000),
    QUEUE_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]+$/, 'letters, digits, ":", "_" and "-" only')
      .default('kr'),
    QUEUE_NAME: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('image-inference'),
    RUNWARE_API_URL: z.string().url().default('https://api.runware.ai/v1'),
    RUNWARE_API_KEY: z.string().min(1).optional(),
    PROVIDER_TIMEOUT_MS: ms(30_000),
    PUBLIC_URL: z.string().url().optional(),
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(8787),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    WEBHOOK_BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(8 * 1024 * 1024),
    S3_ENDPOINT: z.string().url().optional(),
    S3_REGION: z.string().default('us-east-1'),
    S3_BUCKET: z.string().min(3).default('kontext-relay'),
    S3_KEY_PREFIX: z.string().default('outputs/'),
    S3_FORCE_PATH_STYLE: flag(true),
    AWS_ACCESS_KEY_ID: z.string().optional(),
    AWS_SECRET_ACCESS_KEY: z.string().optional(),
    DELIVERY_MODE: z.enum(['webhook', 'upload']).default('webhook'),
    WORKER_CONCURRENCY: z.coerce.number().int().positive().default(32),
    SUBMIT_RATE_MAX: z.coerce.number().int().positive().optional(),
    SUBMIT_RATE_DURATION_MS: ms(1000),
    RATE_LIMIT_BACKOFF_MS: ms(2000),
    SUBMIT_ATTEMPTS: z.coerce.number().int().positive().default(8),
    FIRST_POLL_AFTER_MS: ms(60_000),
    MAX_POLL_INTERVAL_MS: ms(300_000),
    RESULT_DEADLINE_MS: ms(30 * 60_000),
    UPLOAD_CONFIRM_TIMEOUT_MS: ms(60_000),
    FETCH_ALLOWED_HOSTS: csv,
    FETCH_ALLOW_PRIVATE: flag(false),
    FETCH_TIMEOUT_MS: ms(30_000),
    MAX_OUTPUT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(50 * 1024 * 1024),
    DASHBOARD_TOKEN: z.string().min(8).optional(),
    EVENTS_WEBHOOK_URL: z.string().url().optional(),
    EVENTS_WEBHOOK_SECRET: z.string().startsWith('whsec_').optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATA_DIR: z.string().default('./data'),
  })
  .transform((c) => ({ ...c, PUBLIC_URL: c.PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}` }));

export type Config = Readonly<z.output<typeof configSchema>>;

/** Parse the environment once. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const r = configSchema.safeParse(stripEmpty(env));
  if (!r.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(r.error)}`);
  return Object.freeze({ ...r.data, ...overrides });
}

/** An empty variable means "unset", as in most shells' `FOO= cmd`. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
