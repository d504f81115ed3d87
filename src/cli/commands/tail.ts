// `kontext-relay tail [--batch id] [--from id] [--types list] [--json]`: completion events live, one
// line each, until Ctrl-C. Resume after a disconnect with `--from <last id printed>`.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { EventStreamRequestError } from '../../events/event-errors.js';
import {
  isRelayEventType,
  type RelayEvent,
  type RelayEventType,
  STREAM_ID_PATTERN,
} from '../../events/event-types.js';
import { subscribeEvents } from '../../events/subscribe-events.js';
import { openContext } from '../open-context.js';

interface TailOptions {
  batch?: string;
  from?: string;
  types?: string;
  json?: boolean;
}

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print completion events live, one line each (Ctrl-C to stop)')
    .option('--batch <id>', 'only this batch’s events')
    .option(
      '--from <id>',
      'start after this event id; 0 = from the start of the stream (default: new events only)',
    )
    .option('--types <list>', 'comma-separated event types, e.g. task.failed,batch.completed')
    .option('--json', 'one JSON object per line (the RelayEvent, as the library and SSE give it)')
    .action(async (o: TailOptions) => {
      const from = o.from ?? '$';
      if (from !== '$' && !STREAM_ID_PATTERN.test(from))
        throw new EventStreamRequestError('EVENTS_BAD_FROM', 400, `--from must be a stream id, got ${from}`);
      const types = parseTypes(o.types);
      const ctx = await openContext(loadCliConfig());
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      // `tail | head` closes our stdout: stop quietly instead of dying on EPIPE.
      process.stdout.on('error', onSignal);
      try {
        const events = subscribeEvents(ctx.redis, ctx.tasks.keys, {
          from,
          ...(o.batch ? { batchId: o.batch } : {}),
          ...(types ? { types } : {}),
          signal: stop.signal,
        });
        for await (const ev of events) console.log(o.json ? JSON.stringify(ev) : formatEventLine(ev));
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await ctx.close();
      }
    });
}

function parseTypes(list: string | undefined): RelayEventType[] | undefined {
  if (!list) return undefined;
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !isRelayEventType(n));
  if (unknown.length > 0)
    throw new EventStreamRequestError(
      'EVENTS_BAD_TYPES',
      400,
      `unknown event type(s): ${unknown.join(', ')}`,
    );
  return names as RelayEventType[];
}

/** One human line: time, type, ids, and what happened. */
export function formatEventLine(ev: RelayEvent): string {
  const head = `${new Date(ev.at).toISOString()} ${ev.id} ${ev.type.padEnd(22)}`;
  const ids = [ev.batchId ? `batch=${ev.batchId}` : '', 'taskUUID' in ev ? `task=${ev.taskUUID}` : '']
    .filter(Boolean)
    .join(' ');
  return `${head} ${ids}  ${describe(ev)}`;
}

function describe(ev: RelayEvent): string {
  const usd = (n: number) => `$${n.toFixed(4)}`;
  switch (ev.type) {
    case 'task.completed':
      return ev.data.partial
        ? `partial: ${ev.data.outputs.length} output(s), ${ev.data.failedSlots.length} slot(s) failed (${ev.data.failedSlots.map((f) => `${f.slot}: ${f.code}`).join(', ')}), cost ${usd(ev.data.cost)}`
        : `${ev.data.outputs.length} output(s), cost ${usd(ev.data.cost)}`;
    case 'task.failed':
    case 'task.cancelled':
      return ev.data.reason;
    case 'batch.completed': {
      const d = ev.data;
      return `total ${d.total}: completed ${d.completed}, partial ${d.partial}, failed ${d.failed}, cancelled ${d.cancelled}, cost ${usd(d.cost)}`;
    }
    case 'batch.budget_exhausted': {
      const d = ev.data;
      return `budget ${usd(d.budgetUsd)} reached (spent ${usd(d.spent)}, in flight ${usd(d.committed)}): queued tasks held`;
    }
    case 'batch.resumed':
      return `budget raised to ${usd(ev.data.budgetUsd)}: resumed`;
    case 'operator.action':
      return `${ev.data.action} by ${ev.data.actor}: ${ev.data.tasks} task(s), may bill ${ev.data.mayBillImages ?? '?'} image(s)`;
    case 'relay.webhooks_degraded':
      return `${Math.round(ev.data.lossRatio * 100)}% of recent results came by polling: new tasks are polled first`;
    case 'relay.webhooks_recovered':
      return `${ev.data.webhooksSeen} webhook(s) arrived again: new tasks are webhook-first`;
    case 'endpoint.disabled':
      return `endpoint ${ev.data.url} disabled after ${ev.data.consecutiveFailures} failures in a row`;
    case 'tenant.throttled': {
      const d = ev.data;
      return `tenant ${d.tenant} at its cap (${d.inFlight}/${d.maxInFlight} in flight, ${d.waiting} waiting)`;
    }
    case 'relay.data_lost':
      return `Redis lost its data (noticed by ${ev.data.detectedBy}): earlier tasks and batches are gone, workers paused`;
  }
}
