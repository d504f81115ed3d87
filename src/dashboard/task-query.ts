// The gallery's query string (status, q, offset, limit) parsed once for the page, the fragment and the
// JSON API alike; anything out of range is a 400, not a silent default.
import { z } from 'zod';
import { PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, TASK_FILTERS, type TaskQuery } from './find-batch-tasks.js';

export const SEARCH_MAX_CHARS = 200;
export const BATCH_PAGE_DEFAULT = 50;

const taskQuerySchema = z.object({
  status: z.enum(TASK_FILTERS).default('all'),
  q: z.string().max(SEARCH_MAX_CHARS).default(''),
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(PAGE_SIZE_DEFAULT),
});

const listQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(PAGE_SIZE_MAX).default(BATCH_PAGE_DEFAULT),
});

export type QueryResult<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseTaskQuery(query: unknown): QueryResult<TaskQuery> {
  const r = taskQuerySchema.safeParse(pickStrings(query));
  return r.success ? { ok: true, value: r.data } : { ok: false, message: z.prettifyError(r.error) };
}

export function parseListQuery(query: unknown): QueryResult<{ offset: number; limit: number }> {
  const r = listQuerySchema.safeParse(pickStrings(query));
  return r.success ? { ok: true, value: r.data } : { ok: false, message: z.prettifyError(r.error) };
}

/** Express may parse `a[]=x` into arrays or objects; only plain strings are query values here. */
function pickStrings(query: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof v === 'string' && v !== '') out[k] = v;
  }
  return out;
}
