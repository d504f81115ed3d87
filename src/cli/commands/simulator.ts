// `kontext-relay simulator`: the offline provider over HTTP (see src/simulator/README.md).
import type { Command } from 'commander';
import { type FaultRates, startSimulator } from '../../simulator/index.js';
import { onShutdown } from '../shutdown.js';

export function registerSimulator(program: Command): void {
  program
    .command('simulator')
    .description('run the Runware-compatible provider simulator (POST /v1, webhooks, uploads, getResponse)')
    .option('--port <n>', 'port (0 = any free port)', (v) => Number.parseInt(v, 10), 8788)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--api-key <key>', 'accept only this API key (default: any non-empty key)')
    .option('--latency <min-max>', 'per-result latency in ms, e.g. 50-200')
    .option('--fault <name=rate...>', 'fault rates 0..1, e.g. --fault dropWebhook=0.1 submit429=0.05')
    .option('--public-url <url>', 'base URL for imageURL (default: the listening address)')
    .option('--balance <usd>', 'account balance getDetails reports; billed images draw it down', Number)
    .action(
      async (o: {
        port: number;
        host: string;
        apiKey?: string;
        latency?: string;
        fault?: string[];
        publicUrl?: string;
        balance?: number;
      }) => {
        const faults: Partial<FaultRates> = {};
        for (const f of o.fault ?? []) {
          const [name, rate] = f.split('=');
          if (!name || rate === undefined || Number.isNaN(Number(rate)))
            throw new Error(`bad --fault ${f}: use name=rate`);
          (faults as Record<string, number>)[name] = Number(rate);
        }
        const [min, max] = (o.latency ?? '').split('-').map(Number);
        const sim = await startSimulator({
          port: o.port,
          host: o.host,
          ...(o.apiKey ? { apiKey: o.apiKey } : {}),
          ...(min !== undefined && max !== undefined && !Number.isNaN(min)
            ? { latency: { minMs: min, maxMs: max } }
            : {}),
          faults,
          ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
          ...(o.balance !== undefined ? { balance: o.balance } : {}),
        });
        console.log(`simulator listening: ${sim.url}`);
        onShutdown(() => sim.close());
      },
    );
}
