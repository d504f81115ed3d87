// A cost plan for a batch before anything is submitted: every line validated the way the producer
// validates it (prepareTask), images counted and priced per model. Nothing is written anywhere.
import { ValidationError } from '../errors.js';
import { MalformedEntry, type SourcedTask } from '../producer/enqueue-batch.js';
import { prepareTask } from '../producer/prepare-task.js';
import type { PriceTable } from './price-table.js';

/** Invalid lines listed in the plan (the count is always exact). */
export const PLAN_INVALID_LISTED = 100;

export interface PlanLine {
  model: string;
  tasks: number;
  images: number;
  /** USD per image from the price table; null when the model has no price. */
  pricePerImage: number | null;
  costUsd: number;
}

export interface PlanInvalid {
  index: number;
  line: number | undefined;
  message: string;
}

export interface Plan {
  tasks: number;
  images: number;
  costUsd: number;
  byModel: PlanLine[];
  invalidCount: number;
  invalid: PlanInvalid[];
  /** Models with no price: the plan cannot be trusted while any is listed. */
  unpriced: string[];
}

export async function buildPlan(
  source: AsyncIterable<SourcedTask> | Iterable<SourcedTask>,
  prices: PriceTable,
): Promise<Plan> {
  const models = new Map<string, { tasks: number; images: number }>();
  const invalid: PlanInvalid[] = [];
  let invalidCount = 0;
  let index = 0;
  for await (const { task, line } of source as AsyncIterable<SourcedTask>) {
    const at = { index: index++, line };
    try {
      if (task instanceof MalformedEntry) throw new Error(task.message);
      const t = prepareTask(task);
      const m = models.get(t.model) ?? { tasks: 0, images: 0 };
      m.tasks++;
      m.images += t.numberResults ?? 1;
      models.set(t.model, m);
    } catch (e) {
      if (!(e instanceof ValidationError) && !(task instanceof MalformedEntry)) throw e;
      invalidCount++;
      if (invalid.length < PLAN_INVALID_LISTED) invalid.push({ ...at, message: (e as Error).message });
    }
  }
  const byModel = [...models].map(([model, m]) => {
    const price = prices[model];
    return {
      model,
      ...m,
      pricePerImage: price ?? null,
      costUsd: roundUsd((price ?? 0) * m.images),
    };
  });
  return {
    tasks: byModel.reduce((s, l) => s + l.tasks, 0),
    images: byModel.reduce((s, l) => s + l.images, 0),
    costUsd: roundUsd(byModel.reduce((s, l) => s + l.costUsd, 0)),
    byModel,
    invalidCount,
    invalid,
    unpriced: byModel.filter((l) => l.pricePerImage === null).map((l) => l.model),
  };
}

export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
