// Runs one accepted task: its items finish one after another after the configured latency, then
// each is delivered (webhook, then upload) in the background. All of it is tracked for idle().
import { createHash, randomUUID } from 'node:crypto';
import { CONTENT_TYPES, type OutputFormat, type ProviderTask } from '../contract/index.js';
import type { SimulatedAccount } from './account.js';
import type { Faults } from './faults.js';
import type { GeneratedResult } from './generated-result.js';
import type { ImageStore } from './image-store.js';
import type { Journal } from './journal.js';
import { DEFAULT_LOGNORMAL_SIGMA, type Latency } from './options.js';
import { type ProviderErrorBody, providerError, writeJson } from './provider-errors.js';
import type { Random } from './random.js';
import { assembleImage, type ImageSpec, PALETTE_SIZE, renderBase } from './render-image.js';
import { buildResultItem, COST_PER_IMAGE, itemSeed } from './result-item.js';
import type { SimulatorStats } from './stats.js';
import type { TaskRecord, WireItem } from './task-store.js';
import type { Uploader } from './uploader.js';
import type { WebhookSender } from './webhook-sender.js';
import type { WorkTracker } from './work-tracker.js';

export const DEFAULT_OUTPUT_QUALITY = 95;
/** A duplicated webhook follows the first delivery after this long. */
export const DUPLICATE_DELAY_MIN_MS = 50;
export const DUPLICATE_DELAY_MAX_MS = 500;
/** Gap between the reordered webhooks of one task, so they arrive in the shuffled order. */
export const REORDER_GAP_MIN_MS = 20;
export const REORDER_GAP_MAX_MS = 150;
/** wrongSize renders the image at the requested width and height divided by this. */
export const WRONG_SIZE_DIVISOR = 2;
const ITEM_ERROR_MESSAGE =
  'The external provider did not respond within the timeout window. The request was automatically terminated.';

export interface RunnerDeps {
  tracker: WorkTracker;
  random: Random;
  faults: Faults;
  stats: SimulatorStats;
  images: ImageStore;
  webhooks: WebhookSender;
  uploader: Uploader;
  results: GeneratedResult[];
  latency: () => Latency;
  publicUrl: () => string;
  /** Draws down the simulated balance for every image generated. */
  account: SimulatedAccount;
  /** Where finished items are written, when the simulator keeps its state on disk. */
  journal: Journal | undefined;
}

export interface TaskRun {
  /** Settles when every item is a success or an error (or the simulator closed). */
  completed: Promise<void>;
  /** Settles once the task's first webhook has been POSTed, or when none will be. */
  firstWebhook: Promise<void>;
}

type Finished =
  | { result: GeneratedResult; item: WireItem; bytes: Buffer; error?: undefined }
  | { result: GeneratedResult; error: ProviderErrorBody; item?: undefined; bytes?: undefined };

export class TaskRunner {
  constructor(private readonly d: RunnerDeps) {}

  start(task: ProviderTask, record: TaskRecord): TaskRun {
    let markFirst!: () => void;
    const firstWebhook = new Promise<void>((resolve) => {
      markFirst = resolve;
    });
    if (task.webhookURL === undefined) markFirst();
    const reorder = task.webhookURL !== undefined && this.d.faults.roll('reorderWebhooks');
    const held: Finished[] = [];
    const acceptedAt = Date.now();
    const completed = this.d.tracker.run(async () => {
      try {
        for (let i = 0; i < record.items.length; i++) {
          // A task replayed from the journal resumes at its first unfinished item.
          if (record.items[i]?.status !== 'processing') continue;
          await this.d.tracker.sleep(drawLatency(this.d.latency(), this.d.random));
          const done = await this.finishItem(task, record, i);
          done.result.latencyMs = Date.now() - acceptedAt;
          if (reorder) held.push(done);
          else this.deliver(task, done, markFirst);
        }
        if (reorder) this.deliverShuffled(task, held, markFirst);
      } catch (err) {
        markFirst();
        throw err;
      }
    });
    return { completed, firstWebhook };
  }

  private async finishItem(task: ProviderTask, record: TaskRecord, index: number): Promise<Finished> {
    const { random, faults, stats, images, results } = this.d;
    const format = task.outputFormat ?? 'JPG';
    const result: GeneratedResult = {
      taskUUID: task.taskUUID,
      imageUUID: randomUUID(),
      index,
      seed: itemSeed(task.seed, index, random.int),
      format,
      contentType: CONTENT_TYPES[format],
      sha256: '',
      size: 0,
      delivered: 'none',
      latencyMs: 0,
    };
    // Roll first, so a targeted item does not shift the seeded fault stream.
    const rolled = faults.roll('itemError');
    const targeted = faults.itemTargeted(task.taskUUID, index);
    if (rolled || targeted !== undefined) {
      const code = rolled ? 'timeoutProvider' : (targeted ?? 'timeoutProvider');
      const message = code === 'timeoutProvider' ? ITEM_ERROR_MESSAGE : `${code} (injected by failItems)`;
      const error = providerError(code, message, {
        taskUUID: task.taskUUID,
        taskType: 'imageInference',
      });
      record.items[index] = { status: 'error', error };
      result.error = { code: error.code, message: error.message };
      this.d.journal?.append({
        kind: 'item',
        taskUUID: task.taskUUID,
        index,
        state: record.items[index],
        result,
      });
      results.push(result);
      stats.itemsGenerated++;
      return { result, error };
    }
    // wrongSize: a whole, valid image of half the requested width and height.
    const shrink = faults.roll('wrongSize') ? WRONG_SIZE_DIVISOR : 1;
    const spec: ImageSpec = {
      width: Math.max(1, Math.floor(task.width / shrink)),
      height: Math.max(1, Math.floor(task.height / shrink)),
      format,
      quality: task.outputQuality ?? DEFAULT_OUTPUT_QUALITY,
      colour: random.int(0, PALETTE_SIZE - 1),
    };
    const base = await renderBase(spec);
    const bytes = assembleImage(base, spec, result.imageUUID);
    images.add(result.imageUUID, base, spec, (task.outputType ?? 'URL') === 'URL' ? task.ttl : undefined);
    result.sha256 = createHash('sha256').update(bytes).digest('hex');
    result.size = bytes.length;
    const base64Prefix = (task.outputType ?? 'URL') !== 'URL' && faults.roll('base64Prefix');
    if (base64Prefix) stats.imagesDamaged++;
    const item = buildResultItem(task, {
      imageUUID: result.imageUUID,
      seed: result.seed,
      format,
      bytes: this.inlineCopy(task, bytes, format),
      publicUrl: this.d.publicUrl(),
      costZero: faults.roll('cost0'),
      nsfw: faults.roll('nsfw'),
      base64Prefix,
      bothSources: faults.roll('bothSources'),
    });
    record.items[index] = { status: 'success', item };
    const ttl = (task.outputType ?? 'URL') === 'URL' ? task.ttl : undefined;
    this.d.journal?.append({
      kind: 'item',
      taskUUID: task.taskUUID,
      index,
      state: record.items[index],
      result,
      spec,
      ...(ttl === undefined ? {} : { ttl }),
    });
    results.push(result);
    stats.itemsGenerated++;
    this.d.account.bill(COST_PER_IMAGE);
    return { result, item, bytes };
  }

  /** The bytes an inline item carries: the image, or a damaged copy when a body fault rolls. URLs roll per GET. */
  private inlineCopy(task: ProviderTask, bytes: Buffer, format: OutputFormat): Buffer {
    if ((task.outputType ?? 'URL') === 'URL') return bytes;
    const damaged = this.d.faults.rollDamage(bytes, format);
    if (!damaged) return bytes;
    this.d.stats.imagesDamaged++;
    return damaged;
  }

  /** Webhook first; the upload starts once the first webhook POST is done (or right away without one). */
  private deliver(task: ProviderTask, done: Finished, markFirst: () => void): void {
    let uploadStarted = false;
    const startUpload = () => {
      if (uploadStarted) return;
      uploadStarted = true;
      this.upload(task, done);
    };
    void this.d.tracker.run(async () => {
      if (task.webhookURL !== undefined) {
        await this.sendWebhook(task.webhookURL, done, () => {
          markFirst();
          startUpload();
        });
      }
      startUpload();
    });
  }

  private deliverShuffled(task: ProviderTask, held: Finished[], markFirst: () => void): void {
    const { random, tracker } = this.d;
    let order = random.shuffle(held);
    // A shuffle may land on the original order; the fault promises a different one when it can.
    if (order.length > 1 && order.every((d, i) => d === held[i])) order = [...held].reverse();
    void tracker.run(async () => {
      for (const done of order) {
        await tracker.sleep(random.int(REORDER_GAP_MIN_MS, REORDER_GAP_MAX_MS));
        this.deliver(task, done, markFirst);
      }
    });
  }

  private async sendWebhook(url: string, done: Finished, afterFirstAttempt: () => void): Promise<void> {
    const { faults, stats, webhooks, tracker, random } = this.d;
    if (faults.roll('dropWebhook')) {
      stats.webhooksDropped++;
      afterFirstAttempt();
      return;
    }
    const body = done.error
      ? writeJson({ errors: [done.error] })
      : writeJson(faults.roll('flatWebhookBody') ? done.item : { data: [done.item] });
    const ok = await webhooks.deliver(url, body, afterFirstAttempt);
    if (!ok) return;
    done.result.delivered = 'webhook';
    if (faults.roll('duplicateWebhook')) {
      await tracker.sleep(random.int(DUPLICATE_DELAY_MIN_MS, DUPLICATE_DELAY_MAX_MS));
      stats.webhooksDuplicated++;
      await webhooks.deliver(url, body);
    }
  }

  private upload(task: ProviderTask, done: Finished): void {
    const url = task.uploadEndpoint;
    if (url === undefined || done.error) return;
    const { faults, uploader, tracker } = this.d;
    const fault = { fail: faults.roll('uploadFail'), slow: faults.roll('slowUpload') };
    const damaged = faults.rollDamage(done.bytes, done.result.format);
    if (damaged) this.d.stats.imagesDamaged++;
    void tracker.run(async () => {
      const ok = await uploader.upload(url, damaged ?? done.bytes, done.result.contentType, fault);
      if (ok && done.result.delivered === 'none') done.result.delivered = 'upload';
    });
  }
}

/** One item's generation time: uniform in [minMs, maxMs], or lognormal around medianMs, clamped. */
export function drawLatency(l: Latency, random: Random): number {
  if (l.medianMs === undefined) return random.int(l.minMs, l.maxMs);
  // Box–Muller: a standard normal from two uniforms (1 - next() keeps the log argument above 0).
  const z = Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const ms = l.medianMs * Math.exp((l.sigma ?? DEFAULT_LOGNORMAL_SIGMA) * z);
  return Math.round(Math.min(l.maxMs, Math.max(l.minMs, ms)));
}
