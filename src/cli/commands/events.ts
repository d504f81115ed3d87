// `kontext-relay events …`: the outgoing delivery log from the command line — endpoints and their
// health, re-enabling a disabled endpoint, and replaying events to an endpoint from a cursor (each
// with its original webhook-id, so receivers deduplicate). The running service's dispatcher sends them.
import type { Command } from 'commander';
import { loadCliConfig } from '../../config/load-cli-config.js';
import { cliActor, recordOperatorAction } from '../../control/audit-trail.js';
import { EventKeys } from '../../events/event-keys.js';
import { DeliveryLog } from '../../events/outgoing/delivery-log.js';
import { replayDeliveries } from '../../events/outgoing/replay-deliveries.js';
import { openContext } from '../open-context.js';

export function registerEvents(program: Command): void {
  const events = program
    .command('events')
    .description('outgoing event webhooks: endpoints, re-enable, replay');

  events
    .command('endpoints')
    .description('list event-webhook endpoints with delivered/failed counts and whether they are disabled')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const config = loadCliConfig();
      const ctx = await openContext(config);
      try {
        const list = await new DeliveryLog(
          ctx.redis,
          new EventKeys(ctx.tasks.keys),
          ctx.tasks.keys.events(),
        ).endpoints();
        if (o.json) return console.log(JSON.stringify(list, null, 2));
        for (const e of list) {
          const state = e.disabledAt ? `DISABLED since ${new Date(e.disabledAt).toISOString()}` : 'enabled';
          console.log(
            `${e.url}  ${state}  delivered ${e.delivered}  failed ${e.failed}  failing in a row ${e.consecutiveFailures}`,
          );
        }
      } finally {
        await ctx.close();
      }
    });

  events
    .command('enable')
    .description('re-enable a disabled endpoint (then replay what it missed)')
    .requiredOption('--endpoint <url>', 'the endpoint URL')
    .action(async (o: { endpoint: string }) => {
      const ctx = await openContext(loadCliConfig());
      try {
        const was = await new DeliveryLog(
          ctx.redis,
          new EventKeys(ctx.tasks.keys),
          ctx.tasks.keys.events(),
        ).enable(o.endpoint);
        await recordOperatorAction(ctx, {
          actor: cliActor(),
          action: 'enable-endpoint',
          tasks: 0,
          mayBillImages: 0,
          detail: { url: o.endpoint, wasDisabled: was },
        });
        console.log(was ? `${o.endpoint}: re-enabled` : `${o.endpoint}: was not disabled`);
      } finally {
        await ctx.close();
      }
    });

  events
    .command('replay')
    .description('send again every event for an endpoint from a cursor, with the original webhook-id')
    .requiredOption('--endpoint <url>', 'the endpoint URL (EVENTS_WEBHOOK_URL or a batch callback URL)')
    .requiredOption('--from <eventId|time>', 'an event id (<ms>-<seq>, inclusive) or a time (ISO 8601 or ms)')
    .option('--json', 'print JSON')
    .action(async (o: { endpoint: string; from: string; json?: boolean }) => {
      const config = loadCliConfig();
      const ctx = await openContext(config);
      try {
        const keys = new EventKeys(ctx.tasks.keys);
        const log = new DeliveryLog(ctx.redis, keys, ctx.tasks.keys.events());
        if (await log.isDisabled(o.endpoint)) {
          console.error(
            `${o.endpoint} is disabled: re-enable it first (kontext-relay events enable --endpoint …)`,
          );
          process.exitCode = 1;
          return;
        }
        const r = await replayDeliveries(ctx, keys, {
          url: o.endpoint,
          from: o.from,
          serviceUrl: config.EVENTS_WEBHOOK_URL,
        });
        await recordOperatorAction(ctx, {
          actor: cliActor(),
          action: 'replay-events',
          tasks: 0,
          mayBillImages: 0,
          detail: { url: o.endpoint, from: o.from, ...r },
        });
        if (o.json) console.log(JSON.stringify(r));
        else
          console.log(
            `${r.scheduled} event(s) scheduled again for ${o.endpoint} from ${r.fromId}` +
              (r.alreadyPending ? ` (${r.alreadyPending} already pending)` : ''),
          );
      } finally {
        await ctx.close();
      }
    });
}
