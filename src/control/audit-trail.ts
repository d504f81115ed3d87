// The audit trail: every operator action (who, what, which batch and tasks, how many images it may bill,
// when) appended to a bounded Redis stream and, in the same MULTI, to the events stream as
// `operator.action`, so the trail and the event never disagree. Who is a token id or `cli@<host>`.
import { hostname } from 'node:os';
import { eventStreamFields, type OperatorActionData, parseStreamEntry } from '../contract/relay-events.js';
import { EVENTS_STREAM_MAX_LEN, type TaskKeys } from '../tasks/keys.js';
import type { RelayState } from '../tasks/relay-state.js';

/** Entries kept in the audit stream (approximate trim, like the events stream). */
export const AUDIT_STREAM_MAX_LEN = 100_000;
/** Task ids listed per entry; `tasks` still counts every one. */
export const AUDIT_TASKS_LISTED = 100;

/** The connection and key layout of openRelayState (a whole RelayState fits). */
export type AuditContext = Pick<RelayState, 'redis'> & { tasks: Pick<RelayState['tasks'], 'keys'> };

export interface OperatorAction {
  actor: string;
  action: string;
  batchId?: string | undefined;
  taskUUIDs?: readonly string[];
  /** How many tasks it touched (defaults to taskUUIDs' length). */
  tasks?: number;
  mayBillImages: number | null;
  detail?: Record<string, unknown>;
}

export interface AuditEntry extends OperatorActionData {
  id: string;
  at: number;
  batchId?: string | undefined;
}

/** The actor name of the CLI on this machine. */
export function cliActor(): string {
  return `cli@${hostname()}`;
}

export function auditKey(keys: TaskKeys): string {
  return `${keys.base}audit`;
}

/** Append one action to the audit stream and the events stream, atomically. Returns the audit id. */
export async function recordOperatorAction(
  ctx: AuditContext,
  a: OperatorAction,
  now = Date.now(),
): Promise<string> {
  const all = a.taskUUIDs ?? [];
  const data: OperatorActionData = {
    actor: a.actor,
    action: a.action,
    taskUUIDs: all.slice(0, AUDIT_TASKS_LISTED),
    tasks: a.tasks ?? all.length,
    mayBillImages: a.mayBillImages,
    ...(a.detail ? { detail: a.detail } : {}),
  };
  const fields = eventStreamFields({
    type: 'operator.action',
    taskUUID: '',
    batchId: a.batchId ?? '',
    at: String(now),
    data: JSON.stringify(data),
  });
  const keys = ctx.tasks.keys;
  const r = await ctx.redis
    .multi()
    .xadd(auditKey(keys), 'MAXLEN', '~', AUDIT_STREAM_MAX_LEN, '*', ...fields)
    .xadd(keys.events(), 'MAXLEN', '~', EVENTS_STREAM_MAX_LEN, '*', ...fields)
    .exec();
  const failed = r?.find(([err]) => err);
  if (!r || failed) throw failed?.[0] ?? new Error('audit MULTI was discarded');
  return String(r[0]?.[1]);
}

export interface AuditQuery {
  /** Only entries at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Newest first, at most this many (default 200). */
  limit?: number;
}

export const AUDIT_DEFAULT_LIMIT = 200;

/** The newest audit entries first. */
export async function readAuditTrail(ctx: AuditContext, q: AuditQuery = {}): Promise<AuditEntry[]> {
  const min = q.sinceMs === undefined ? '-' : String(Math.max(0, Math.floor(q.sinceMs)));
  const raw = (await ctx.redis.xrevrange(
    auditKey(ctx.tasks.keys),
    '+',
    min,
    'COUNT',
    q.limit ?? AUDIT_DEFAULT_LIMIT,
  )) as [string, string[]][];
  const out: AuditEntry[] = [];
  for (const [id, fields] of raw) {
    const ev = parseStreamEntry(id, fields);
    if (ev?.type !== 'operator.action') continue;
    out.push({ id, at: ev.at, ...(ev.batchId ? { batchId: ev.batchId } : {}), ...ev.data });
  }
  return out;
}
