// The simulator's knobs and their defaults, validated once at start so a bad rate fails loudly.
// Every timing default here is named; the rest of the simulator reads resolved options only.
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DEFAULT_BALANCE_USD } from './account.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_LATENCY = { minMs: 50, maxMs: 200 } as const;
/** Runware expects a 2xx within about 5 s (shared contract §5.3). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;
export const DEFAULT_WEBHOOK_MAX_ATTEMPTS = 8;
export const DEFAULT_WEBHOOK_BASE_DELAY_MS = 250;
export const DEFAULT_WEBHOOK_MAX_DELAY_MS = 8_000;

export const FAULT_NAMES = [
  'submit429',
  'submit500',
  'submit503',
  'submit504',
  'dropWebhook',
  'duplicateWebhook',
  'reorderWebhooks',
  'webhookBeforeAck',
  'flatWebhookBody',
  'itemError',
  'cost0',
  'nsfw',
  'uploadFail',
  'slowUpload',
  'truncateImage',
  'base64Prefix',
  'pngCutIdat',
  'jpegNoEoi',
  'webpSizeMismatch',
  'shortContentLength',
  'wrongSize',
  'bothSources',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
export type FaultRates = Record<FaultName, number>;

export interface Latency {
  minMs: number;
  maxMs: number;
  /** With a median: lognormal (median × e^(sigma·N(0,1))), clamped to [minMs, maxMs]; else uniform. */
  medianMs?: number | undefined;
  /** The lognormal's shape; default DEFAULT_LOGNORMAL_SIGMA. */
  sigma?: number | undefined;
}

/** A lognormal with sigma 0.5 has p95 ≈ 2.3× and p99 ≈ 3.2× its median. */
export const DEFAULT_LOGNORMAL_SIGMA = 0.5;

export interface WebhookOptions {
  timeoutMs?: number;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface SimulatorOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** When set, only this key is accepted; when unset any non-empty key is. */
  apiKey?: string;
  /** Time to generate one result item, uniform in [minMs, maxMs]; a task's items run one after another. */
  latency?: Latency;
  faults?: Partial<FaultRates>;
  webhook?: WebhookOptions;
  /** Base of every imageURL; default http://<host>:<port>. */
  publicUrl?: string;
  /** Top-level `referenceImages` (the legacy place) is answered with unsupportedParameter unless true. */
  flatReferenceImagesAllowed?: boolean;
  /** Seeds the RNG behind faults, latencies, colours and random seeds, for repeatable tests. */
  seed?: number;
  /** Account balance in USD that `accountManagement` getDetails reports; billed images draw it down. */
  balance?: number;
  /** Clock for `ttl` expiry of served images (ms since epoch); tests pass one they can move forward. */
  clock?: () => number;
  /**
   * Keep tasks, items and images in this JSON-lines file and reload them at start, so a restarted
   * simulator (on the same port) still answers getResponse and serves the images (the demo uses it).
   */
  stateFile?: string;
}

const rate = z.number().min(0).max(1);
export const faultRatesSchema = z.strictObject(
  Object.fromEntries(FAULT_NAMES.map((n) => [n, rate.optional()])) as Record<
    FaultName,
    z.ZodOptional<typeof rate>
  >,
);

export const latencySchema = z
  .strictObject({
    minMs: z.number().int().min(0),
    maxMs: z.number().int().min(0),
    medianMs: z.number().positive().optional(),
    sigma: z.number().positive().optional(),
  })
  .refine((l) => l.minMs <= l.maxMs, { error: 'latency.minMs must not exceed latency.maxMs' });

const optionsSchema = z.object({
  port: z.number().int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  apiKey: z.string().min(1).optional(),
  latency: latencySchema.optional(),
  faults: faultRatesSchema.optional(),
  webhook: z
    .strictObject({
      timeoutMs: z.number().int().positive().optional(),
      maxAttempts: z.number().int().min(1).optional(),
      baseDelayMs: z.number().int().min(0).optional(),
      maxDelayMs: z.number().int().min(0).optional(),
    })
    .optional(),
  publicUrl: z.url().optional(),
  flatReferenceImagesAllowed: z.boolean().optional(),
  seed: z.number().int().optional(),
  balance: z.number().finite().optional(),
  stateFile: z.string().min(1).optional(),
});

export interface ResolvedOptions {
  port: number;
  host: string;
  apiKey: string | undefined;
  latency: Latency;
  faults: FaultRates;
  webhook: Required<WebhookOptions>;
  publicUrl: string | undefined;
  flatReferenceImagesAllowed: boolean;
  seed: number | undefined;
  balance: number;
  clock: () => number;
  stateFile: string | undefined;
}

export function noFaults(): FaultRates {
  return Object.fromEntries(FAULT_NAMES.map((n) => [n, 0])) as FaultRates;
}

/** Validate and fill defaults; throws ConfigError naming every bad option. */
export function resolveOptions(opts: SimulatorOptions = {}): ResolvedOptions {
  const { clock, ...plain } = opts;
  const r = optionsSchema.safeParse(plain);
  if (!r.success) throw new ConfigError(`invalid simulator options:\n${z.prettifyError(r.error)}`);
  const o = r.data;
  return {
    port: o.port ?? 0,
    host: o.host ?? DEFAULT_HOST,
    apiKey: o.apiKey,
    latency: o.latency ?? { ...DEFAULT_LATENCY },
    faults: { ...noFaults(), ...definedOnly(o.faults ?? {}) },
    webhook: {
      timeoutMs: o.webhook?.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      maxAttempts: o.webhook?.maxAttempts ?? DEFAULT_WEBHOOK_MAX_ATTEMPTS,
      baseDelayMs: o.webhook?.baseDelayMs ?? DEFAULT_WEBHOOK_BASE_DELAY_MS,
      maxDelayMs: o.webhook?.maxDelayMs ?? DEFAULT_WEBHOOK_MAX_DELAY_MS,
    },
    publicUrl: o.publicUrl?.replace(/\/+$/, ''),
    flatReferenceImagesAllowed: o.flatReferenceImagesAllowed ?? false,
    seed: o.seed,
    balance: o.balance ?? DEFAULT_BALANCE_USD,
    clock: clock ?? Date.now,
    stateFile: o.stateFile,
  };
}

/** Rates as parsed or passed in, where a key may be present but undefined. */
export type RatesUpdate = { [K in FaultName]?: number | undefined };

/** Drops keys whose value is undefined, so a partial never overwrites a rate with nothing. */
export function definedOnly(o: RatesUpdate): Partial<FaultRates> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<FaultRates>;
}
