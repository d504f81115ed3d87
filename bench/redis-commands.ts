// Benchmark 5: Redis commands per completed task, from INFO commandstats (which counts the commands
// scripts run too), split by phase (enqueue, processing) and — with MONITOR — into commands the relay
// sends and commands its Lua scripts run. The bare BullMQ worker of benchmark 1 is the yardstick.
import type { Redis } from 'ioredis';
import { envInt } from './support/bench-config.js';
import { type PipelineCtx, queueCeilingRun, relayRun } from './support/pipeline-runs.js';
import type { BenchModule, BenchResult } from './support/result.js';
import { startServices } from './support/services.js';
import { startSimulatorChild } from './support/simulator-child.js';

/** Commands the benchmark itself sends to read or reset the counters: never counted. */
const OWN_COMMANDS = new Set(['info', 'config|resetstat', 'monitor']);
/** Completion is polled rarely here, and each poll (one HGETALL) is subtracted. */
const POLL_EVERY_MS = 250;
const TOP_COMMANDS = 10;

type Counts = Map<string, number>;

export const redisCommands: BenchModule = {
  id: 'redis',
  title: 'Redis commands per task',
  async run(): Promise<BenchResult> {
    const tasks = envInt('BENCH_REDIS_TASKS', 300);
    const services = await startServices({ s3: true });
    const sim = await startSimulatorChild({ min: 0, max: 0 });
    const ctx: PipelineCtx = { services, sim, tasks, concurrency: envInt('BENCH_CONCURRENCY', 64) };
    const admin = services.redis;
    try {
      const relay = await countPhases(admin, (hooks) =>
        relayRun(ctx, 'redis-relay', { ...hooks, pollEveryMs: POLL_EVERY_MS }),
      );
      await admin.flushall();
      const bare = await countPhases(admin, (hooks) => queueCeilingRun(ctx, 'redis-bare', hooks));
      return report(tasks, relay, bare);
    } finally {
      await sim.stop();
      await services.stop();
    }
  },
};

interface Phases {
  enqueue: Counts;
  processing: Counts;
  fromClients: Counts;
  fromScripts: Counts;
}

/** Counts by command for the enqueue phase and the processing phase of one run. */
async function countPhases(
  admin: Redis,
  run: (hooks: {
    beforeEnqueue: () => Promise<void>;
    afterEnqueue: () => Promise<void>;
  }) => Promise<{ polls: number }>,
): Promise<Phases> {
  let enqueue: Counts = new Map();
  const fromClients: Counts = new Map();
  const fromScripts: Counts = new Map();
  const monitor = await admin.monitor();
  let watching = false;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const name = args[0]?.toLowerCase() ?? '';
    if (!watching || OWN_COMMANDS.has(name) || name === 'config') return;
    const into = source === 'lua' ? fromScripts : fromClients;
    into.set(name, (into.get(name) ?? 0) + 1);
  });
  try {
    const outcome = await run({
      beforeEnqueue: async () => {
        await admin.config('RESETSTAT');
      },
      afterEnqueue: async () => {
        enqueue = await commandStats(admin);
        await admin.config('RESETSTAT');
        watching = true;
      },
    });
    watching = false;
    const processing = await commandStats(admin);
    // The benchmark's own completion polls: one HGETALL each, sent by a client.
    subtract(processing, 'hgetall', outcome.polls);
    subtract(fromClients, 'hgetall', outcome.polls);
    return { enqueue, processing, fromClients, fromScripts };
  } finally {
    monitor.disconnect();
  }
}

async function commandStats(redis: Redis): Promise<Counts> {
  const info = await redis.info('commandstats');
  const counts: Counts = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (!OWN_COMMANDS.has(m[1]!)) counts.set(m[1]!, Number(m[2]));
  }
  return counts;
}

function subtract(c: Counts, name: string, n: number): void {
  c.set(name, Math.max(0, (c.get(name) ?? 0) - n));
}

function total(c: Counts): number {
  let t = 0;
  for (const v of c.values()) t += v;
  return t;
}

function top(c: Counts, per: number): string {
  return [...c]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP_COMMANDS)
    .map(([k, v]) => `${k} ${(v / per).toFixed(1)}`)
    .join(', ');
}

function report(tasks: number, relay: Phases, bare: Phases): BenchResult {
  const per = (n: number) => n / tasks;
  const scripts = (c: Counts) => (c.get('evalsha') ?? 0) + (c.get('eval') ?? 0);
  return {
    id: 'redis',
    title: 'Redis commands per task',
    at: new Date().toISOString(),
    params: { tasks, 'completion polls subtracted': 'yes' },
    figures: [
      { label: 'relay: enqueue, per task', value: per(total(relay.enqueue)), unit: 'commands' },
      {
        label: 'relay: processing (worker + webhook), per task',
        value: per(total(relay.processing)),
        unit: 'commands',
      },
      {
        label: 'relay: total per completed task',
        value: per(total(relay.enqueue) + total(relay.processing)),
        unit: 'commands',
      },
      {
        label: 'relay processing: sent by the relay (requests)',
        value: per(total(relay.fromClients)),
        unit: 'commands',
      },
      {
        label: 'relay processing: run inside Lua scripts',
        value: per(total(relay.fromScripts)),
        unit: 'commands',
      },
      {
        label: 'relay processing: Lua scripts run (EVALSHA)',
        value: per(scripts(relay.processing)),
        unit: 'scripts',
      },
      { label: 'bare BullMQ: addBulk, per job', value: per(total(bare.enqueue)), unit: 'commands' },
      { label: 'bare BullMQ: processing, per job', value: per(total(bare.processing)), unit: 'commands' },
      {
        label: 'bare BullMQ: processing, sent by the worker',
        value: per(total(bare.fromClients)),
        unit: 'commands',
      },
      {
        label: 'relay ÷ bare BullMQ, total per task',
        value:
          (total(relay.enqueue) + total(relay.processing)) / (total(bare.enqueue) + total(bare.processing)),
        unit: 'ratio',
      },
    ],
    targets: [],
    samples: {},
    notes: [
      `Relay processing, per task by command: ${top(relay.processing, tasks)}.`,
      `Relay processing, sent by the relay: ${top(relay.fromClients, tasks)}.`,
      `Relay enqueue, per task: ${top(relay.enqueue, tasks)}.`,
      `Bare BullMQ processing, per job: ${top(bare.processing, tasks)}.`,
    ],
  };
}
