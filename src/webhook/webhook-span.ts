// kr.webhook: the ack path of one authenticated webhook call, in the task's trace. The trace comes from
// the URL the worker handed the provider (`tp`, `tb`, `ta`; tokens/webhook-token.ts), so continuing it
// costs no Redis read. A call without a valid `tp` (task not traced, tracing off) gets no span.
import type { Attributes } from '@opentelemetry/api';
import { ATTR, inSpan, isTraceparent, taskContext } from '../tracing/spans.js';

/** Longest batch id taken from the URL as a span attribute. */
const MAX_BATCH_ID_CHARS = 200;

export function webhookSpan(
  query: Record<string, unknown>,
  providerTaskUUID: string,
  fn: () => Promise<void>,
): Promise<void> {
  const { tp, tb, ta } = query;
  if (!isTraceparent(tp)) return fn();
  const attrs: Attributes = { 'kr.provider_task_uuid': providerTaskUUID };
  if (typeof tb === 'string' && tb.length > 0 && tb.length <= MAX_BATCH_ID_CHARS) attrs[ATTR.batchId] = tb;
  if (typeof ta === 'string' && /^\d{1,6}$/.test(ta)) attrs[ATTR.attempt] = Number(ta);
  return inSpan('kr.webhook', taskContext(tp), attrs, () => fn());
}
