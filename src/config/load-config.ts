// Environment → typed, frozen Config. Parsed once at start-up; every bad variable is reported at once,
// by name. This is the only module that reads process.env.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { eventsSecretProblem, secretProblem } from './secret-policy.js';

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

/** A secret or token checked against the published values and the minimum length (secret-policy.ts). */
const secret = (name: string, problem = secretProblem) =>
  z.string().superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: `${name} ${p}` });
  });
/** Comma-separated secrets (several viewer tokens), each checked. */
const secretList = (name: string) =>
  csv.superRefine((list, ctx) => {
    for (const v of list) {
      const p = secretProblem(v);
      if (p) ctx.addIssue({ code: 'custom', message: `${name} ${p}` });
    }
  });

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
    WEBHOOK_SECRET: secret('WEBHOOK_SECRET').optional(),
    /** The secret before the last rotation: tokens it signed are still accepted until they expire. */
    WEBHOOK_SECRET_PREVIOUS: secret('WEBHOOK_SECRET_PREVIOUS').optional(),
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
    /** Fair share (issue 14): tasks admitted and not ended, across all workers. Unset: no limit. */
    MAX_IN_FLIGHT: z.coerce.number().int().positive().optional(),
    SUBMIT_RATE_MAX: z.coerce.number().int().positive().optional(),
    SUBMIT_RATE_DURATION_MS: ms(1000),
    RATE_LIMIT_BACKOFF_MS: ms(2000),
    SUBMIT_ATTEMPTS: z.coerce.number().int().positive().default(8),
    FIRST_POLL_AFTER_MS: ms(60_000),
    MAX_POLL_INTERVAL_MS: ms(300_000),
    POLL_MIN_DELAY_MS: ms(3_000),
    POLL_OVERDUE_FACTOR: z.coerce.number().min(1).default(2),
    POLL_RETRY_MS: ms(1_000),
    POLL_RATE_MAX: z.coerce.number().positive().default(20),
    LATENCY_PRIOR_MS: ms(10_000),
    WEBHOOK_LOSS_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.5),
    WEBHOOK_HEALTH_MIN_SLOTS: z.coerce.number().int().positive().default(20),
    WEBHOOK_RECOVER_AFTER: z.coerce.number().int().positive().default(3),
    LOCK_DURATION_MS: ms(4_000),
    STALLED_INTERVAL_MS: ms(2_000),
    RESULT_DEADLINE_MS: ms(30 * 60_000),
    UPLOAD_CONFIRM_TIMEOUT_MS: ms(60_000),
    /** Automatic re-runs of a task's missing slots after retryable item errors (timeoutProvider…). */
    SLOT_RETRY_ATTEMPTS: z.coerce.number().int().min(0).max(10).default(2),
    /** Fetches of one result before its slot fails (retryable failures: timeouts, 5xx, corrupt bytes). */
    OUTPUT_FETCH_ATTEMPTS: z.coerce.number().int().min(1).default(6),
    /** Backoff between fetches of a result (and S3 retries): doubling from base to max, with jitter. */
    OUTPUT_RETRY_BASE_MS: ms(1000),
    OUTPUT_RETRY_MAX_MS: ms(60_000),
    FETCH_ALLOWED_HOSTS: csv,
    FETCH_ALLOW_PRIVATE: flag(false),
    FETCH_TIMEOUT_MS: ms(30_000),
    MAX_OUTPUT_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(50 * 1024 * 1024),
    DASHBOARD_TOKEN: secret('DASHBOARD_TOKEN').optional(),
    DASHBOARD_VIEWER_TOKEN: secretList('DASHBOARD_VIEWER_TOKEN'),
    METRICS_TOKEN: secret('METRICS_TOKEN').optional(),
    EVENTS_WEBHOOK_URL: z.string().url().optional(),
    EVENTS_WEBHOOK_SECRET: secret('EVENTS_WEBHOOK_SECRET', eventsSecretProblem).optional(),
    /** Signs deliveries too during a rotation's overlap (a second `v1,` signature). */
    EVENTS_WEBHOOK_SECRET_PREVIOUS: secret('EVENTS_WEBHOOK_SECRET_PREVIOUS', eventsSecretProblem).optional(),
    /** JSON object model id → USD per image, over the built-in table (plan, issue 15). */
    MODEL_PRICES_USD: z
      .string()
      .transform((s, c) => {
        try {
          return z.record(z.string(), z.number().nonnegative()).parse(JSON.parse(s));
        } catch {
          c.addIssue({ code: 'custom', message: 'must be a JSON object of model id → USD per image' });
          return z.NEVER;
        }
      })
      .optional(),
    /** Consecutive failed attempts after which an event-webhook endpoint is disabled (issue 15). */
    EVENTS_ENDPOINT_DISABLE_AFTER: z.coerce.number().int().positive().default(50),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATA_DIR: z.string().default('./data'),
  })
  .superRefine((c, ctx) => {
    if (c.DASHBOARD_TOKEN !== undefined && c.DASHBOARD_VIEWER_TOKEN.includes(c.DASHBOARD_TOKEN))
      ctx.addIssue({ code: 'custom', message: 'DASHBOARD_VIEWER_TOKEN must not repeat DASHBOARD_TOKEN' });
  })
  .transform((c) => ({ ...c, PUBLIC_URL: c.PUBLIC_URL ?? `http://127.0.0.1:${c.PORT}` }));

export type Config = Readonly<z.output<typeof configSchema>>;

/** Parse the environment once. Throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const r = configSchema.safeParse(stripEmpty(env));
  if (!r.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(r.error)}`);
  return Object.freeze({ ...r.data, ...overrides });
}

/** The environment with some variables set (or replaced) by the caller, validated the same way. */
export function loadConfigWith(vars: Record<string, string>): Config {
  return loadConfig({ ...process.env, ...vars });
}

/** An empty variable means "unset", as in most shells' `FOO= cmd`. */
function stripEmpty(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}
