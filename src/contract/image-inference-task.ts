// The imageInference task as the provider documents it (bfl:3@1 first), in two forms:
// `providerTaskSchema` is exactly what goes on the wire; `taskInputSchema` is what a user hands the
// producer (taskUUID optional, delivery fields owned by us). Both reject unknown keys.
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { toFieldIssues } from './field-issues.js';
import { describeSizes, isAllowedSize, modelRules, SUPPORTED_MODEL_IDS } from './models.js';

export const SEED_MIN = 0n;
export const SEED_MAX = 9223372036854775807n;
export const PROMPT_MIN = 2;
export const PROMPT_MAX = 3000;
export const OUTPUT_QUALITY_MIN = 20;
export const OUTPUT_QUALITY_MAX = 99;
export const TTL_MIN = 60;
export const NUMBER_RESULTS_MIN = 1;
export const NUMBER_RESULTS_MAX = 20;
export const SAFETY_TOLERANCE_MAX = 6;

export const OUTPUT_TYPES = ['URL', 'base64Data', 'dataURI'] as const;
export const OUTPUT_FORMATS = ['JPG', 'PNG', 'WEBP'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  JPG: 'image/jpeg',
  PNG: 'image/png',
  WEBP: 'image/webp',
};
export const FILE_EXTENSIONS: Readonly<Record<OutputFormat, string>> = {
  JPG: 'jpg',
  PNG: 'png',
  WEBP: 'webp',
};

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ANY_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATA_URI = /^data:image\/(png|jpe?g|webp);base64,[A-Za-z0-9+/]+={0,2}$/;
const BASE64 = /^[A-Za-z0-9+/]{16,}={0,2}$/;

const int = (field: string, min: number, max?: number) => {
  let s = z.number({ error: `${field} must be an integer` }).int({ error: `${field} must be an integer` });
  s = s.min(min, { error: `${field} must be at least ${min}` });
  if (max !== undefined) s = s.max(max, { error: `${field} must be at most ${max}` });
  return s;
};
const bool = (field: string) => z.boolean({ error: `${field} must be true or false` });
const httpUrl = (field: string) =>
  z
    .string({ error: `${field} must be a URL string` })
    .refine(isHttpUrl, { error: `${field} must be an http(s) URL` });

export const taskUUIDSchema = z
  .string({ error: 'taskUUID must be a string' })
  .regex(UUID_V4, { error: 'taskUUID must be a UUID v4 (e.g. 3b0c2f5e-6a9d-4a51-9d0e-2f7f1c9a2b11)' });

/** A seed as an integer, a bigint or a decimal string; always a canonical decimal string after parsing. */
export const seedSchema = z
  .union([z.bigint(), z.number(), z.string()], {
    error: 'seed must be an integer, a bigint or a decimal string',
  })
  .transform((v, ctx) => {
    let n: bigint;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) return fail(ctx, 'seed must be an integer');
      if (Object.is(v, -0)) return fail(ctx, 'seed -0 is not a seed: write 0');
      if (!Number.isSafeInteger(v))
        return fail(ctx, 'seed above 2^53 must be given as a string or bigint, or its digits are lost');
      n = BigInt(v);
    } else if (typeof v === 'string') {
      if (!/^-?\d+$/.test(v.trim())) return fail(ctx, 'seed string must hold decimal digits only');
      // "-0" would pass as 0 below; a sign on zero is a mistake in the input, not a seed (README "Input encoding").
      if (/^-0+$/.test(v.trim())) return fail(ctx, 'seed "-0" is not a seed: write 0');
      n = BigInt(v.trim());
    } else n = v;
    if (n < SEED_MIN || n > SEED_MAX) return fail(ctx, `seed must be between ${SEED_MIN} and ${SEED_MAX}`);
    return n.toString();
  });

function fail(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message, params: { rule: 'seed' } });
  return z.NEVER;
}

const referenceImageSchema = z
  .string({ error: 'reference image must be a string' })
  .refine((s) => ANY_UUID.test(s) || isHttpUrl(s) || DATA_URI.test(s) || BASE64.test(s), {
    error: 'reference image must be an image UUID, an http(s) URL, a data URI or base64 data',
  });

const bflSettingsSchema = z.strictObject({
  promptUpsampling: bool('promptUpsampling').optional(),
  safetyTolerance: int('safetyTolerance', 0, SAFETY_TOLERANCE_MAX).optional(),
});

/** Fields common to the wire form and the user's input. */
const commonShape = {
  model: z.enum(SUPPORTED_MODEL_IDS, { error: `model must be one of: ${SUPPORTED_MODEL_IDS.join(', ')}` }),
  positivePrompt: z
    .string({ error: 'positivePrompt must be a string' })
    .min(PROMPT_MIN, { error: `positivePrompt must be at least ${PROMPT_MIN} characters` })
    .max(PROMPT_MAX, { error: `positivePrompt must be at most ${PROMPT_MAX} characters` }),
  width: int('width', 1),
  height: int('height', 1),
  seed: seedSchema.optional(),
  numberResults: int('numberResults', NUMBER_RESULTS_MIN, NUMBER_RESULTS_MAX).optional(),
  outputType: z
    .enum(OUTPUT_TYPES, { error: `outputType must be one of: ${OUTPUT_TYPES.join(', ')}` })
    .optional(),
  outputFormat: z
    .enum(OUTPUT_FORMATS, { error: `outputFormat must be one of: ${OUTPUT_FORMATS.join(', ')}` })
    .optional(),
  outputQuality: int('outputQuality', OUTPUT_QUALITY_MIN, OUTPUT_QUALITY_MAX).optional(),
  safety: z
    .strictObject({
      checkContent: bool('checkContent').optional(),
      mode: z.enum(['none', 'fast'], { error: 'safety.mode must be one of: none, fast' }).optional(),
    })
    .optional(),
  ttl: int('ttl', TTL_MIN).optional(),
  includeCost: bool('includeCost').optional(),
  inputs: z
    .strictObject({
      referenceImages: z
        .array(referenceImageSchema, { error: 'referenceImages must be an array of strings' })
        .min(1, { error: 'referenceImages must hold at least 1 image' }),
    })
    .optional(),
  providerSettings: z.strictObject({ bfl: bflSettingsSchema.optional() }).optional(),
};

type ModelBound = {
  model: string;
  width: number;
  height: number;
  numberResults?: number | undefined;
  inputs?: { referenceImages: string[] } | undefined;
  providerSettings?: Record<string, unknown> | undefined;
};

/** Rules that depend on the model: the size table, reference image and result counts. */
function checkModelRules(task: ModelBound, ctx: z.RefinementCtx): void {
  const rules = modelRules(task.model);
  if (!rules) return; // the enum already reported it
  if (!isAllowedSize(rules, task.width, task.height)) {
    ctx.addIssue({
      code: 'custom',
      path: ['width'],
      params: { rule: 'size_pair' },
      message: `width×height ${task.width}×${task.height} is not allowed for ${rules.id}; allowed: ${describeSizes(rules)}`,
    });
  }
  const refs = task.inputs?.referenceImages.length ?? 0;
  if (refs > rules.maxReferenceImages) {
    ctx.addIssue({
      code: 'custom',
      path: ['inputs', 'referenceImages'],
      params: { rule: 'max' },
      message: `referenceImages must hold at most ${rules.maxReferenceImages} images for ${rules.id} (got ${refs})`,
    });
  }
  if ((task.numberResults ?? 1) > rules.maxNumberResults) {
    ctx.addIssue({
      code: 'custom',
      path: ['numberResults'],
      params: { rule: 'max' },
      message: `numberResults must be at most ${rules.maxNumberResults} for ${rules.id}`,
    });
  }
  for (const key of Object.keys(task.providerSettings ?? {})) {
    if (key !== rules.providerKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['providerSettings', key],
        params: { rule: 'unknown_key' },
        message: `providerSettings.${key} does not apply to ${rules.id} (use providerSettings.${rules.providerKey})`,
      });
    }
  }
}

/** The task exactly as sent to the provider's `POST /v1`. */
export const providerTaskSchema = z
  .strictObject({
    taskType: z.literal('imageInference', { error: 'taskType must be "imageInference"' }),
    taskUUID: taskUUIDSchema,
    ...commonShape,
    webhookURL: httpUrl('webhookURL').optional(),
    uploadEndpoint: httpUrl('uploadEndpoint').optional(),
    deliveryMethod: z
      .enum(['sync', 'async'], { error: 'deliveryMethod must be one of: sync, async' })
      .optional(),
  })
  .superRefine(checkModelRules);

export type ProviderTask = z.output<typeof providerTaskSchema>;

const OWNED_BY_RELAY = ['webhookURL', 'uploadEndpoint', 'deliveryMethod'] as const;

/** What a user hands the producer: the provider's field names, delivery fields left to us. */
export const taskInputSchema = z
  .strictObject({
    taskType: z.literal('imageInference', { error: 'taskType must be "imageInference"' }).optional(),
    taskUUID: taskUUIDSchema.optional(),
    ...commonShape,
    model: commonShape.model.default('bfl:3@1'),
    // Case-insensitive here (and JPEG means JPG) for users; the wire form is always upper case.
    outputFormat: z.preprocess(normaliseFormat, commonShape.outputFormat.unwrap()).optional(),
    ...Object.fromEntries(
      OWNED_BY_RELAY.map((k) => [
        k,
        z
          .never({ error: `${k} is set by kontext-relay for each submit; remove it from the task` })
          .optional(),
      ]),
    ),
  })
  .superRefine(checkModelRules);

export type TaskInput = z.input<typeof taskInputSchema>;
export type ValidTask = Omit<z.output<typeof taskInputSchema>, (typeof OWNED_BY_RELAY)[number] | 'taskType'>;

function normaliseFormat(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const up = v.toUpperCase();
  return up === 'JPEG' ? 'JPG' : up;
}

/** Validate a user task; throws ValidationError listing every bad field. */
export function validateTaskInput(input: unknown): ValidTask {
  const r = taskInputSchema.safeParse(input);
  if (!r.success) throw new ValidationError(toFieldIssues(r.error));
  const {
    taskType: _t,
    webhookURL: _w,
    uploadEndpoint: _u,
    deliveryMethod: _d,
    ...task
  } = r.data as Record<string, unknown>;
  return task as ValidTask;
}

/** Validate a wire task (what the simulator receives). */
export function safeParseProviderTask(input: unknown) {
  return providerTaskSchema.safeParse(input);
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}
