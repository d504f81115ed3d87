// The completion events, one schema for writer and reader: the stream entry's field layout (written by
// the one Lua fragment in tasks/lua/append-event.ts and by the audit trail) and the typed union the
// library, SSE and outgoing webhooks parse it into. Parsing is lenient about extra fields (the producers
// may add some) and strict about the ones we type.
import { z } from 'zod';

/** The fields of every events-stream entry, in the order they are written. `data` is JSON. */
export const EVENT_STREAM_FIELDS = ['type', 'taskUUID', 'batchId', 'at', 'data'] as const;
export type EventStreamField = (typeof EVENT_STREAM_FIELDS)[number];

/** One entry's fields as the flat `[field, value, …]` list XADD takes; absent ids are written as ''. */
export function eventStreamFields(e: Record<EventStreamField, string>): string[] {
  return EVENT_STREAM_FIELDS.flatMap((f) => [f, e[f]]);
}

/** Stream ids: `<ms>-<seq>`; `0` and `<ms>` alone are accepted by XREAD too. */
export const STREAM_ID_PATTERN = /^\d+(-\d+)?$/;

const storedOutputSchema = z.looseObject({
  slot: z.number(),
  bucket: z.string(),
  key: z.string(),
  size: z.number(),
  sha256: z.string(),
  contentType: z.string(),
  imageUUID: z.string(),
  seed: z.string().optional(),
  cost: z.number().optional(),
  NSFWContent: z.boolean().optional(),
  storedAt: z.number(),
});

const reasonData = z.looseObject({ reason: z.string() });

/** A slot that ended without an output: the provider's or an OUTPUT_* code, or RESULT_DEADLINE. */
const slotFailureSchema = z.looseObject({
  slot: z.number(),
  code: z.string(),
  message: z.string(),
  stage: z.enum(['provider', 'fetch', 'deadline']),
});

export const eventDataSchemas = {
  /**
   * A task that stored outputs. `partial: true` (with `reason`) when some slots failed instead; they
   * are listed in `failedSlots` (empty for a fully completed task).
   */
  'task.completed': z.looseObject({
    cost: z.number(),
    outputs: z.array(storedOutputSchema),
    failedSlots: z.array(slotFailureSchema).default([]),
    partial: z.boolean().default(false),
    reason: z.string().optional(),
  }),
  /** No output stored; `failedSlots` lists each slot's reason when the task got that far. */
  'task.failed': z.looseObject({ reason: z.string(), failedSlots: z.array(slotFailureSchema).optional() }),
  'task.cancelled': reasonData,
  'batch.completed': z.looseObject({
    total: z.number(),
    completed: z.number(),
    /** Tasks with some slots stored and some failed (counted apart from completed). */
    partial: z.number().default(0),
    failed: z.number(),
    cancelled: z.number(),
    cost: z.number(),
  }),
  'batch.budget_exhausted': z.looseObject({
    budgetUsd: z.number(),
    /** Cost the provider reported for the batch so far. */
    spent: z.number(),
    /** Estimated cost of the batch's tasks admitted and still in flight. */
    committed: z.number(),
    /** Estimated cost of the task that would have passed the budget. */
    requested: z.number(),
  }),
  'batch.resumed': z.looseObject({ budgetUsd: z.number() }),
  /** An operator action (retry, cancel, resume, budget…), as the audit trail records it (README "Security"). */
  'operator.action': z.looseObject({
    /** A token id (`tok_` + 12 hex of its SHA-256), `loopback`, or `cli@<host>`; never a token. */
    actor: z.string(),
    action: z.string(),
    /** The tasks acted on (the first AUDIT_TASKS_LISTED of them; `tasks` counts all). */
    taskUUIDs: z.array(z.string()),
    tasks: z.number(),
    /** Images the action may cause the provider to bill; null when it cannot be known in advance. */
    mayBillImages: z.number().nullable(),
    detail: z.record(z.string(), z.unknown()).optional(),
  }),
  /** Polling recovered more than WEBHOOK_LOSS_THRESHOLD of recent slots: new tasks are polled first. */
  'relay.webhooks_degraded': z.looseObject({ lossRatio: z.number() }),
  /** Webhooks arrived again while poll-first: new tasks are webhook-first again. */
  'relay.webhooks_recovered': z.looseObject({ webhooksSeen: z.number() }),
  /** An event-webhook endpoint failed this many times in a row and is no longer called (issue 15). */
  'endpoint.disabled': z.looseObject({ url: z.string(), consecutiveFailures: z.number() }),
  /** Fair share (issue 14): a tenant's max-in-flight binds while it has work waiting; once per period. */
  'tenant.throttled': z.looseObject({
    tenant: z.string(),
    maxInFlight: z.number(),
    inFlight: z.number(),
    /** Its tasks waiting in the lane that was being served. */
    waiting: z.number(),
  }),
  /** Redis lost its data (the epoch key vanished): the queue, records and batches before it are gone. */
  'relay.data_lost': z.looseObject({
    /** The epoch the detecting process had seen; gone from Redis. */
    previousEpoch: z.string(),
    /** The epoch written after the loss. */
    epoch: z.string(),
    /** `host:pid` of the process that noticed first. */
    detectedBy: z.string(),
  }),
} as const;

export type RelayEventType = keyof typeof eventDataSchemas;
export const RELAY_EVENT_TYPES = Object.keys(eventDataSchemas) as RelayEventType[];

const common = {
  /** The stream entry id: resume after it with `from`, SSE `Last-Event-ID`. */
  id: z.string(),
  /** When the event happened, ms since the epoch. */
  at: z.number(),
};
const taskEvent = { ...common, taskUUID: z.string(), batchId: z.string().optional() };
const batchEvent = { ...common, batchId: z.string() };
/** About the whole relay, not one batch: subscribers filtered by batch or task receive them too. */
const relayEvent = { ...common, batchId: z.undefined().optional() };

export const relayEventSchema = z.discriminatedUnion('type', [
  z.object({ ...taskEvent, type: z.literal('task.completed'), data: eventDataSchemas['task.completed'] }),
  z.object({ ...taskEvent, type: z.literal('task.failed'), data: eventDataSchemas['task.failed'] }),
  z.object({ ...taskEvent, type: z.literal('task.cancelled'), data: eventDataSchemas['task.cancelled'] }),
  z.object({ ...batchEvent, type: z.literal('batch.completed'), data: eventDataSchemas['batch.completed'] }),
  z.object({
    ...batchEvent,
    type: z.literal('batch.budget_exhausted'),
    data: eventDataSchemas['batch.budget_exhausted'],
  }),
  z.object({ ...batchEvent, type: z.literal('batch.resumed'), data: eventDataSchemas['batch.resumed'] }),
  z.object({
    ...common,
    batchId: z.string().optional(),
    type: z.literal('operator.action'),
    data: eventDataSchemas['operator.action'],
  }),
  z.object({
    ...relayEvent,
    type: z.literal('relay.webhooks_degraded'),
    data: eventDataSchemas['relay.webhooks_degraded'],
  }),
  z.object({
    ...relayEvent,
    type: z.literal('relay.webhooks_recovered'),
    data: eventDataSchemas['relay.webhooks_recovered'],
  }),
  z.object({
    ...relayEvent,
    type: z.literal('endpoint.disabled'),
    data: eventDataSchemas['endpoint.disabled'],
  }),
  // No task and no batch: batchId is always absent (typed so consumers can read it on any event).
  z.object({
    ...common,
    batchId: z.string().optional(),
    type: z.literal('tenant.throttled'),
    data: eventDataSchemas['tenant.throttled'],
  }),
  z.object({ ...relayEvent, type: z.literal('relay.data_lost'), data: eventDataSchemas['relay.data_lost'] }),
]);

export type OperatorActionData = z.output<(typeof eventDataSchemas)['operator.action']>;

export type RelayEvent = z.output<typeof relayEventSchema>;
export type RelayEventOf<T extends RelayEventType> = Extract<RelayEvent, { type: T }>;

export function isRelayEventType(s: string): s is RelayEventType {
  return Object.hasOwn(eventDataSchemas, s);
}

/**
 * One stream entry (id and its flat `[field, value, …]` list) as a RelayEvent, or null when the entry
 * is not one (an unknown type from a newer producer, or damaged data): callers skip those.
 */
export function parseStreamEntry(id: string, fields: readonly string[]): RelayEvent | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  let data: unknown;
  try {
    data = JSON.parse(f.data ?? '{}');
  } catch {
    return null;
  }
  const r = relayEventSchema.safeParse({
    id,
    type: f.type,
    at: Number(f.at),
    ...(f.taskUUID ? { taskUUID: f.taskUUID } : {}),
    ...(f.batchId ? { batchId: f.batchId } : {}),
    data,
  });
  return r.success ? r.data : null;
}

/** An event about the whole relay (type `relay.*`), delivered to every subscriber whatever its filter. */
export function isRelayWideEvent(ev: RelayEvent): boolean {
  return ev.type.startsWith('relay.');
}

/** The task an event is about (batch events have none). */
export function eventTaskUUID(ev: RelayEvent): string | undefined {
  return 'taskUUID' in ev ? ev.taskUUID : undefined;
}
