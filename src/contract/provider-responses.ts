// What comes back from the provider: envelopes, result items, errors, async acks, getResponse items
// and webhook bodies. Parsing is deliberately tolerant where the provider's shape is UNCONFIRMED
// (shared contract §1.3, §5.2, §6): every plausible shape is accepted and normalised here, once.
import { z } from 'zod';

/** One error as the provider reports it; `parameter` may be one field or several. */
export const providerErrorObjectSchema = z.looseObject({
  code: z.string(),
  message: z.string().optional(),
  parameter: z.union([z.string(), z.array(z.string())]).optional(),
  taskType: z.string().optional(),
  taskUUID: z.string().optional(),
  documentation: z.string().optional(),
  status: z.string().optional(),
});
export type ProviderErrorObject = z.infer<typeof providerErrorObjectSchema>;

const seedOut = z.union([z.number(), z.string()]).transform((v) => String(v));

/** A finished image. Exactly one of imageURL / imageBase64Data / imageDataURI carries the bytes. */
export const resultItemSchema = z.looseObject({
  taskType: z.string().optional(),
  taskUUID: z.string(),
  imageUUID: z.string().min(1),
  imageURL: z.string().optional(),
  imageBase64Data: z.string().optional(),
  imageDataURI: z.string().optional(),
  seed: seedOut.optional(),
  cost: z.number().optional(),
  NSFWContent: z.boolean().optional(),
  status: z.string().optional(),
});
export type ResultItem = z.output<typeof resultItemSchema>;

export const ackItemSchema = z.looseObject({ taskType: z.string().optional(), taskUUID: z.string() });

export const envelopeSchema = z.looseObject({
  data: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
  error: z.unknown().optional(),
});

/** getResponse states that mean "keep polling" (older docs and SDKs use several names). */
const PENDING_STATES = new Set(['processing', 'pending', 'queued', 'scheduled', 'waiting', 'running']);

export type PolledItem =
  | { state: 'processing'; taskUUID: string }
  | { state: 'success'; taskUUID: string; result: ResultItem }
  | { state: 'error'; taskUUID: string; error: ProviderErrorObject };

/**
 * Normalise any provider error shape into error objects: `{errors:[...]}`, the pre-stream
 * `{error:{code,message},taskUUID}`, and the legacy `{error:true,errorId,errorMessage}`.
 */
export function extractErrors(body: unknown): ProviderErrorObject[] {
  const env = envelopeSchema.safeParse(body);
  if (!env.success) return [];
  const out: ProviderErrorObject[] = [];
  for (const e of env.data.errors ?? []) {
    const p = providerErrorObjectSchema.safeParse(e);
    if (p.success) out.push(p.data);
    else if (e && typeof e === 'object') out.push({ code: 'unknown', message: JSON.stringify(e) });
  }
  const single = env.data.error;
  if (single && typeof single === 'object') {
    const p = providerErrorObjectSchema.safeParse(single);
    const taskUUID = (body as { taskUUID?: unknown }).taskUUID;
    if (p.success) out.push(typeof taskUUID === 'string' ? { taskUUID, ...p.data } : p.data);
  } else if (single === true) {
    const legacy = body as { errorId?: unknown; errorMessage?: unknown };
    out.push({
      code: `legacy${String(legacy.errorId ?? '')}`,
      message: String(legacy.errorMessage ?? 'error'),
    });
  }
  return out;
}

/**
 * A webhook body in any of its three shapes: `{data:[item]}`, `{errors:[...]}`, or the bare item.
 * Items that are not valid results are reported in `invalid` rather than thrown.
 */
export function parseWebhookBody(body: unknown): {
  items: ResultItem[];
  errors: ProviderErrorObject[];
  invalid: string[];
} {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return { items: [], errors: [], invalid: ['body must be a JSON object'] };
  }
  const env = body as { data?: unknown; errors?: unknown; error?: unknown };
  const isEnvelope = 'data' in env || 'errors' in env || 'error' in env;
  const rawItems: unknown[] = isEnvelope ? (Array.isArray(env.data) ? env.data : []) : [body];
  if (isEnvelope && env.data !== undefined && !Array.isArray(env.data)) {
    return { items: [], errors: [], invalid: ['data must be an array'] };
  }
  const items: ResultItem[] = [];
  const errors = extractErrors(body);
  const invalid: string[] = [];
  for (const raw of rawItems) {
    const rec = raw as { status?: unknown; error?: unknown; taskUUID?: unknown };
    if (rec && rec.status === 'error') {
      const p = providerErrorObjectSchema.safeParse(rec.error);
      errors.push({
        ...(p.success ? p.data : { code: 'taskFailed' }),
        ...(typeof rec.taskUUID === 'string' ? { taskUUID: rec.taskUUID } : {}),
      });
      continue;
    }
    const p = resultItemSchema.safeParse(raw);
    if (p.success) items.push(p.data);
    else invalid.push(p.error.issues.map((i) => `${i.path.join('.') || 'item'}: ${i.message}`).join('; '));
  }
  if (!isEnvelope && items.length === 0 && errors.length === 0 && invalid.length === 0) {
    invalid.push('body holds no result');
  }
  return { items, errors, invalid };
}

/**
 * A getResponse answer, reduced to the items of one task. Errors may sit in the top-level `errors[]`
 * or nested in a `data[]` item; errors for other tasks are ignored (shared contract §9.5).
 */
export function parsePollResponse(body: unknown, taskUUID: string): PolledItem[] {
  const env = envelopeSchema.safeParse(body);
  if (!env.success) return [];
  const out: PolledItem[] = [];
  for (const raw of env.data.data ?? []) {
    if (!raw || typeof raw !== 'object') continue;
    const rec = raw as { taskUUID?: unknown; status?: unknown; error?: unknown; imageUUID?: unknown };
    if (rec.taskUUID !== taskUUID) continue;
    const status = typeof rec.status === 'string' ? rec.status.toLowerCase() : undefined;
    if (status === 'error' || status === 'failed') {
      const p = providerErrorObjectSchema.safeParse(rec.error);
      out.push({ state: 'error', taskUUID, error: p.success ? p.data : { code: 'taskFailed' } });
    } else if (status !== undefined && PENDING_STATES.has(status)) {
      out.push({ state: 'processing', taskUUID });
    } else if (rec.imageUUID !== undefined) {
      const p = resultItemSchema.safeParse(raw);
      if (p.success) out.push({ state: 'success', taskUUID, result: p.data });
    } else {
      out.push({ state: 'processing', taskUUID });
    }
  }
  for (const e of extractErrors(body)) {
    if (e.taskUUID === undefined || e.taskUUID === taskUUID) out.push({ state: 'error', taskUUID, error: e });
  }
  return out;
}
