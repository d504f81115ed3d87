// Spans of one task's trace, shared by every process that touches the task. The trace starts at enqueue
// (kr.enqueue, a root span per task); its W3C traceparent travels with the task (job data, the webhook
// URL), and each process continues it from there. With tracing off the API's no-op tracer and
// propagator make all of this free: no context is stored and no span is recorded.
import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  type TimeInput,
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

/** The task's trace context from its stored traceparent (the root context when there is none). */
export function taskContext(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The traceparent of a context's span, or undefined when tracing is off or the span is not sampled. */
export function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
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
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') span.setAttribute(ATTR.errorCode, code);
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

/** trace_id / span_id of the active span, for log lines (empty when there is none). */
export function activeTraceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
