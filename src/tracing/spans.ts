// Spans of one task's trace, shared by every process that touches the task. The trace starts at enqueue
// (kr.enqueue, a root span per task); its W3C traceparent travels with the task (job data, the webhook
// URL), and each process continues it from there. With tracing off the API's no-op tracer and
// propagator make all of this free: no context is stored and no span is recorded.
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

export const TRACER_NAME = 'kontext-relay';

/** Span attribute names (the `kr.` namespace is ours). */
export const ATTR = {
  taskUUID: 'kr.task_uuid',
  batchId: 'kr.batch_id',
  attempt: 'kr.attempt',
  slot: 'kr.slot',
  imageUUID: 'kr.image_uuid',
  errorCode: 'kr.error_code',
  providerStatus: 'kr.provider.status',
  providerCode: 'kr.provider.code',
  via: 'kr.via',
  bytes: 'kr.bytes',
  s3Key: 'kr.s3_key',
  state: 'kr.state',
  outcome: 'kr.outcome',
  recovered: 'kr.recovered',
  items: 'kr.items',
} as const;

export type SpanName =
  | 'kr.enqueue'
  | 'kr.submit'
  | 'kr.provider_wait'
  | 'kr.webhook'
  | 'kr.poll'
  | 'kr.fetch_output'
  | 'kr.store_output'
  | 'kr.complete';

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * The task's trace context from its stored traceparent (the root context when there is none or it is
 * malformed). Parsed here rather than by the global propagator, so a library host's propagator setup
 * does not decide whether a task's trace continues.
 */
export function taskContext(traceparent: string | undefined): Context {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return ROOT_CONTEXT;
  const sc = { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16), isRemote: true };
  return isSpanContextValid(sc) ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/** The traceparent of a context's span, or undefined when tracing is off or the span is not sampled. */
export function traceparentOf(ctx: Context): string | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc) || !(sc.traceFlags & TraceFlags.SAMPLED)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-01`;
}

/** Is this a well-formed traceparent (the webhook route takes one from its URL)? */
export function isTraceparent(s: unknown): s is string {
  return typeof s === 'string' && TRACEPARENT.test(s);
}

/** The trace id in a traceparent (for links and logs), or undefined. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent?.split('-')[1];
}

/**
 * Start a task's trace: a root kr.enqueue span, ended at once. Returns the traceparent to store with the
 * task, or undefined when tracing is off (nothing is stored then).
 */
export function startTaskTrace(attributes: Attributes): string | undefined {
  const span = tracer().startSpan('kr.enqueue', { root: true, attributes });
  const tp = traceparentOf(trace.setSpan(ROOT_CONTEXT, span));
  span.end();
  return tp;
}

/**
 * Run `fn` inside a span that is a child of `parent` (and active for fn's logs and nested spans). A
 * thrown error is recorded on the span with its code, and rethrown.
 */
export async function inSpan<T>(
  name: SpanName,
  parent: Context,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      recordError(span, e);
      throw e;
    } finally {
      span.end();
    }
  });
}

/** Record an error on a span: exception event, error status, and the error's code when it has one. */
export function recordError(span: Span, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  span.recordException(err);
  const { code, providerCode, httpStatus } = e as {
    code?: unknown;
    providerCode?: unknown;
    httpStatus?: unknown;
  };
  if (typeof code === 'string') span.setAttribute(ATTR.errorCode, code);
  if (typeof providerCode === 'string') span.setAttribute(ATTR.providerCode, providerCode);
  if (typeof httpStatus === 'number') span.setAttribute(ATTR.providerStatus, httpStatus);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

export interface PastEvent {
  name: string;
  at: TimeInput;
  attributes?: Attributes;
}

/**
 * A span for a stretch of time that no one process lived through (the provider's wait): recorded after
 * the fact with its real start and end, and an event for each thing that happened within it.
 */
export function recordPastSpan(
  name: SpanName,
  parent: Context,
  attributes: Attributes,
  start: TimeInput,
  end: TimeInput,
  events: readonly PastEvent[] = [],
): void {
  const span = tracer().startSpan(name, { attributes, startTime: start }, parent);
  for (const ev of events) span.addEvent(ev.name, ev.attributes ?? {}, ev.at);
  span.end(end);
}

// A task's trace, carried in the async context: the stored traceparent as parent, and the attributes
// every span of the task shares (kr.task_uuid, kr.batch_id, kr.attempt). Without a stored traceparent
// (tracing off at enqueue) nothing is set up and taskSpan runs its function with a no-op span.
const TASK_TRACE = createContextKey('kr.task_trace');
interface TaskTrace {
  traceparent: string;
  attributes: Attributes;
}
function activeTask(): TaskTrace | undefined {
  return context.active().getValue(TASK_TRACE) as TaskTrace | undefined;
}
const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** The attributes every span of a task carries, leaving out the ones not known. */
export function taskAttributes(taskUUID: string, batchId: string | undefined, attempt?: number): Attributes {
  const a: Attributes = { [ATTR.taskUUID]: taskUUID };
  if (batchId) a[ATTR.batchId] = batchId;
  if (attempt !== undefined) a[ATTR.attempt] = attempt;
  return a;
}

/** Run `fn` in the task's trace (stored traceparent + shared attributes); just `fn()` when it has none. */
export function inTaskTrace<T>(traceparent: string | undefined, attributes: Attributes, fn: () => T): T {
  if (!traceparent) return fn();
  const ctx = taskContext(traceparent);
  if (ctx === ROOT_CONTEXT) return fn();
  return context.with(ctx.setValue(TASK_TRACE, { traceparent, attributes } satisfies TaskTrace), fn);
}

/** The task's shared attributes when running inside inTaskTrace (and tracing is on), else undefined. */
export function activeTaskAttributes(): Attributes | undefined {
  return activeTask()?.attributes;
}

/** The task's trace for its webhook URL (tokens/webhook-token.ts), when running in its traced context. */
export function activeTaskTrace(): { traceparent: string; batchId?: string; attempt?: number } | undefined {
  const task = activeTask();
  if (!task) return undefined;
  const batchId = task.attributes[ATTR.batchId];
  const attempt = task.attributes[ATTR.attempt];
  return {
    traceparent: task.traceparent,
    ...(typeof batchId === 'string' ? { batchId } : {}),
    ...(typeof attempt === 'number' ? { attempt } : {}),
  };
}

/** A span of the active task's trace (child of the active span); a no-op span outside a task's trace. */
export function taskSpan<T>(
  name: SpanName,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const task = activeTask();
  if (!task) return fn(NO_SPAN);
  return inSpan(name, context.active(), { ...task.attributes, ...attributes }, fn);
}

/** recordPastSpan in the active task's trace; nothing outside one. */
export function recordTaskPastSpan(
  name: SpanName,
  attributes: Attributes,
  start: TimeInput,
  end: TimeInput,
  events: readonly PastEvent[] = [],
): void {
  const task = activeTask();
  if (!task) return;
  recordPastSpan(name, context.active(), { ...task.attributes, ...attributes }, start, end, events);
}

/** Add attributes to the active span, if there is one (a no-op when tracing is off). */
export function annotateActiveSpan(attributes: Attributes): void {
  trace.getActiveSpan()?.setAttributes(attributes);
}

/** trace_id / span_id of the active span, for log lines (empty when there is none). */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
