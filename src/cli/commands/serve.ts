// `kontext-relay serve [--role worker|webhook|all]`: the long-lived service for production.
import type { Command } from 'commander';
import { loadConfig } from '../../config/load-config.js';
import { createLogger } from '../../log.js';
import { type Role, startService } from '../../service/start-service.js';
import { mountOperatorSurface } from '../operator-surface.js';
import { onShutdown } from '../shutdown.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the worker, the webhook server, or both (configured from the environment)')
    .option('--role <role>', 'worker | webhook | all', 'all')
    .option(
      '--lock-ms <ms>',
      'job lock duration: a crashed worker’s jobs resume after about this long',
      Number.parseInt,
    )
    .action(async (o: { role: string; lockMs?: number }) => {
      if (!['worker', 'webhook', 'all'].includes(o.role))
        throw new Error(`--role must be worker, webhook or all (got ${o.role})`);
      const config = loadConfig();
      const logger = createLogger(config.LOG_LEVEL);
      const svc = await startService({
        config,
        role: o.role as Role,
        logger,
        mount: mountOperatorSurface,
        ...(o.lockMs
          ? {
              worker: {
                lockDurationMs: o.lockMs,
                stalledIntervalMs: Math.max(500, Math.floor(o.lockMs / 2)),
              },
            }
          : {}),
      });
      logger.info({ role: o.role, url: svc.url }, 'kontext-relay serving');
      onShutdown(async () => {
        logger.info('shutting down: finishing active steps, parked tasks stay in Redis');
        await svc.close();
      });
    });
}
