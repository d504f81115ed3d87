// Benchmark 5: Redis commands per completed task, from INFO commandstats (which counts the commands
// scripts run too), split by phase (enqueue, processing) and — with MONITOR — into commands the relay
// sends and commands its Lua scripts run. By process (worker, webhook server, each `serve --role`):
// commands sent, counted in the process, and round trips — sequential waits for Redis — counted in a
// second run with one task at a time, where they are the task's own. The bare BullMQ worker of
// benchmark 1 is the yardstick.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { envInt } from './support/bench-config.js';
import {
  type PipelineCtx,
  queueCeilingRun,
  type RelayPids,
  type RunHooks,
  relayRun,
} from './support/pipeline-runs.js';
import { type Trips, takeTrips, tripsNodeArgs } from './support/redis-trips.js';
import type { BenchModule, BenchResult } from './support/result.js';
import { startServices } from './support/services.js';
import { startSimulatorChild } from './support/simulator-child.js';

/** Commands the benchmark itself sends to read or reset the counters: never counted. */
const OWN_COMMANDS = new Set(['info', 'config|resetstat', 'monitor']);
/** Completion is polled rarely here, and each poll (one HGETALL) is subtracted. */
const POLL_EVERY_MS = 250;
const TOP_COMMANDS = 10;
/** Issue #13's targets: Lua included, all commands per task; round trips per task by process. */
const TARGET_COMMANDS = 60;
const TARGET_WORKER_TRIPS = 7;
const TARGET_WEBHOOK_TRIPS = 1;

type Counts = Map<string, number>;
type ByProcess = Record<keyof RelayPids, Trips>;

export const redisCommands: BenchModule = {
  id: 'redis',
  title: 'Redis commands per task',
  async run(): Promise<BenchResult> {
    const tasks = envInt('BENCH_REDIS_TASKS', 300);
    const services = await startServices({ s3: true });
    const sim = await startSimulatorChild({ min: 0, max: 0 });
    const ctx: PipelineCtx = { services, sim, tasks, concurrency: envInt('BENCH_CONCURRENCY', 64) };
    const admin = services.redis;
    const dir = mkdtempSync(join(tmpdir(), 'kr-redis-trips-'));
    const counting = { childNodeArgs: tripsNodeArgs(), childEnv: { BENCH_REDIS_TRIPS_DIR: dir } };
    try {
      const relay = await countPhases(admin, dir, (hooks) =>
        relayRun(ctx, 'redis-relay', { ...counting, ...hooks, pollEveryMs: POLL_EVERY_MS }),
      );
      await admin.flushall();
      // One task at a time: a process's round trips are then the tasks' own sequential waits.
      const serialTasks = envInt('BENCH_REDIS_SERIAL_TASKS', 40);
      let serial: ByProcess | undefined;
      let started: ByProcess | undefined;
      await relayRun({ ...ctx, tasks: serialTasks, concurrency: 1 }, 'redis-serial', {
        ...counting,
        pollEveryMs: POLL_EVERY_MS,
        afterEnqueue: async (pids) => {
          started = await takeAll(dir, pids!);
        },
        beforeStop: async (pids) => {
          serial = await takeAll(dir, pids);
        },
      });
      await admin.flushall();
      const bare = await countPhases(admin, dir, (hooks) => queueCeilingRun(ctx, 'redis-bare', hooks));
      if (!serial || !started || !relay.byProcess) throw new Error('no per-process counts from the relay');
      return report(tasks, relay, bare, serial, serialTasks);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await sim.stop();
      await services.stop();
    }
  },
};

async function takeAll(dir: string, pids: RelayPids): Promise<ByProcess> {
  return { worker: await takeTrips(dir, pids.worker), webhook: await takeTrips(dir, pids.webhook) };
}

interface Phases {
  enqueue: Counts;
  processing: Counts;
  fromClients: Counts;
  fromScripts: Counts;
  /** Relay runs: what each process sent during the processing phase. */
  byProcess?: ByProcess;
}

/** Counts by command for the enqueue phase and the processing phase of one run. */
async function countPhases(
  admin: Redis,
  dir: string,
  run: (hooks: RunHooks) => Promise<{ polls: number }>,
): Promise<Phases> {
  let enqueue: Counts = new Map();
  const fromClients: Counts = new Map();
  const fromScripts: Counts = new Map();
  let byProcess: ByProcess | undefined;
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
      afterEnqueue: async (pids) => {
        enqueue = await commandStats(admin);
        // Start-up commands of the relay's processes are not the tasks': counted afresh from here.
        if (pids) await takeAll(dir, pids);
        await admin.config('RESETSTAT');
        watching = true;
      },
      beforeStop: async (pids) => {
        byProcess = await takeAll(dir, pids);
      },
    });
    watching = false;
    const processing = await commandStats(admin);
    // The benchmark's own completion polls: one HGETALL each, sent by a client.
    subtract(processing, 'hgetall', outcome.polls);
    subtract(fromClients, 'hgetall', outcome.polls);
    return { enqueue, processing, fromClients, fromScripts, ...(byProcess ? { byProcess } : {}) };
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

function report(
  tasks: number,
  relay: Phases,
  bare: Phases,
  serial: ByProcess,
  serialTasks: number,
): BenchResult {
  const per = (n: number) => n / tasks;
  const byProc = relay.byProcess!;
  const all = per(total(relay.enqueue) + total(relay.processing));
  const trips = (p: keyof RelayPids) => serial[p].roundTrips / serialTasks;
  const topOf = (t: Trips, n: number) => top(new Map(Object.entries(t.byCommand)), n);
  const scripts = (c: Counts) => (c.get('evalsha') ?? 0) + (c.get('eval') ?? 0);
  return {
    id: 'redis',
    title: 'Redis commands per task',
    at: new Date().toISOString(),
    params: {
      tasks,
      'tasks in the one-at-a-time run': serialTasks,
      'completion polls subtracted': 'yes',
    },
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
      {
        label: 'worker process: commands sent per task',
        value: per(byProc.worker.commands),
        unit: 'commands',
      },
      {
        label: 'worker process: round trips per task (one task at a time)',
        value: trips('worker'),
        unit: 'round trips',
      },
      {
        label: 'webhook process: commands sent per task (one webhook each)',
        value: per(byProc.webhook.commands),
        unit: 'commands',
      },
      {
        label: 'webhook process: round trips per task (one task at a time)',
        value: trips('webhook'),
        unit: 'round trips',
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
    targets: [
      atMost('Redis commands per task, Lua included', all, TARGET_COMMANDS, 'commands'),
      atMost('worker round trips per task', trips('worker'), TARGET_WORKER_TRIPS, 'round trips'),
      atMost('webhook round trips per task', trips('webhook'), TARGET_WEBHOOK_TRIPS, 'round trips'),
    ],
    samples: {},
    notes: [
      'By process: counted inside the worker and webhook processes (a preloaded counter on ioredis). A round ' +
        'trip starts when a command goes out while none of the process’s commands awaits its reply, so a ' +
        'MULTI, a pipeline or calls sent in the same tick share one; blocking reads (BZPOPMIN) are not counted. ' +
        'Round trips come from a second run with one task at a time (concurrency 1), where every wait is the task’s own.',
      `Worker, sent per task: ${topOf(byProc.worker, tasks)}.`,
      `Webhook, sent per task: ${topOf(byProc.webhook, tasks)}.`,
      `Relay processing, per task by command: ${top(relay.processing, tasks)}.`,
      `Relay processing, sent by the relay: ${top(relay.fromClients, tasks)}.`,
      `Relay enqueue, per task: ${top(relay.enqueue, tasks)}.`,
      `Bare BullMQ processing, per job: ${top(bare.processing, tasks)}.`,
    ],
  };
}

/** "at most `goal`" check. */
function atMost(label: string, actual: number, goal: number, unit: string) {
  const met = actual <= goal;
  return {
    label,
    goal: `≤ ${goal} ${unit}`,
    actual: `${actual.toFixed(1)} ${unit}`,
    met,
    ...(met ? {} : { shortfall: `${(actual - goal).toFixed(1)} over` }),
  };
}
