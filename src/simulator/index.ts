// The offline Runware provider: a real HTTP server that accepts, validates and "generates" like
// the provider does, with fault injection. Public API: startSimulator(); everything else is internal.
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { type AccountDetails, SimulatedAccount } from './account.js';
import { Faults, type ItemFailure } from './faults.js';
import type { GeneratedResult } from './generated-result.js';
import { ImageStore } from './image-store.js';
import { Journal } from './journal.js';
import {
  type FaultRates,
  type Latency,
  latencySchema,
  resolveOptions,
  type SimulatorOptions,
} from './options.js';
import { createRandom } from './random.js';
import { replayJournal } from './replay-journal.js';
import { createApp } from './server.js';
import { createStats, type SimulatorStats } from './stats.js';
import { TaskRunner } from './task-runner.js';
import { TaskStore } from './task-store.js';
import { Uploader } from './uploader.js';
import { WebhookSender } from './webhook-sender.js';
import { WorkTracker } from './work-tracker.js';

export type { ItemFailure } from './faults.js';
export type { GeneratedResult } from './generated-result.js';
export type { FaultName, FaultRates, Latency, SimulatorOptions } from './options.js';
export { FAULT_NAMES } from './options.js';
export type { SimulatorStats } from './stats.js';

/** Extra time webhookBeforeAck may hold an ack beyond the items' latency and the webhook timeout. */
const ACK_HOLD_SLACK_MS = 1_000;
const SECOND_STREAM_SALT = 0x9e37_79b9;
/** Idle keep-alive sockets to receivers are closed after this long. */
const KEEP_ALIVE_TIMEOUT_MS = 10_000;

export interface Simulator {
  /** The provider endpoint, e.g. http://127.0.0.1:PORT/v1. */
  url: string;
  baseUrl: string;
  port: number;
  stats(): SimulatorStats;
  /** Every item generated so far, successes and item errors. */
  results(): GeneratedResult[];
  /** The exact bytes generated for an image (also after its ttl). */
  imageBytes(imageUUID: string): Buffer | undefined;
  setFaults(f: Partial<FaultRates>): void;
  /** Items that fail (with `code`, default timeoutProvider): item `index` of a provider task, or all its items. */
  failItems(items: readonly ItemFailure[]): void;
  setLatency(l: Latency): void;
  /** The simulated account: its balance and usage as getDetails reports them. */
  account(): AccountDetails;
  setBalance(usd: number): void;
  /** Resolves when no item is pending and no webhook or upload is in flight or waiting to retry. */
  idle(): Promise<void>;
  /** Stops timers, aborts deliveries, closes the server. */
  close(): Promise<void>;
}

export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const o = resolveOptions(opts);
  // Fault decisions get their own stream so background work (latencies, colours, seeds) drawing
  // random numbers cannot shift which request a seeded fault lands on.
  const faults = new Faults(createRandom(o.seed), o.faults);
  const random = createRandom(o.seed === undefined ? undefined : o.seed ^ SECOND_STREAM_SALT);
  const stats = createStats();
  const tracker = new WorkTracker();
  const images = new ImageStore(o.clock);
  const tasks = new TaskStore();
  const results: GeneratedResult[] = [];
  const agent = new Agent({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS });
  let latency: Latency = { ...o.latency };
  let publicUrl = o.publicUrl ?? '';
  const journal = o.stateFile ? new Journal(o.stateFile) : undefined;
  const pending = journal ? await replayJournal(journal, tasks, images, results) : [];

  const account = new SimulatedAccount(o.balance);
  const runner = new TaskRunner({
    account,
    tracker,
    random,
    faults,
    stats,
    images,
    results,
    webhooks: new WebhookSender({ agent, tracker, random, stats, options: o.webhook }),
    uploader: new Uploader({ agent, tracker, random, stats }),
    latency: () => latency,
    publicUrl: () => publicUrl,
    journal,
  });
  const setLatency = (l: Latency) => {
    latency = { ...latencySchema.parse(l) };
  };
  const app = createApp({
    submit: {
      faults,
      stats,
      tasks,
      runner,
      account,
      apiKey: o.apiKey,
      flatReferenceImagesAllowed: o.flatReferenceImagesAllowed,
      journal,
      ackHoldMs: (n) => latency.maxMs * n + o.webhook.timeoutMs + ACK_HOLD_SLACK_MS,
    },
    images,
    stats: () => ({ ...stats }),
    counters: stats,
    results: () => results.map((r) => ({ ...r })),
    faults,
    setLatency,
    idle: () => tracker.idle(),
  });

  const server = app.listen(o.port, o.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  publicUrl ||= baseUrl;
  for (const t of pending) runner.start(t.task, t.record);

  return {
    url: `${baseUrl}/v1`,
    baseUrl,
    port,
    stats: () => ({ ...stats }),
    results: () => results.map((r) => ({ ...r, ...(r.error ? { error: { ...r.error } } : {}) })),
    imageBytes: (imageUUID) => images.bytes(imageUUID),
    setFaults: (f) => faults.set(f),
    failItems: (items) => faults.failItems(items),
    setLatency,
    account: () => account.details(),
    setBalance: (usd) => account.setBalance(usd),
    idle: () => tracker.idle(),
    async close() {
      await tracker.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.destroy();
    },
  };
}
