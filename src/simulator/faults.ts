// Fault injection: the current rates (changeable at runtime) and one roll per decision.
// A roll happens where the fault would act, so a rate change applies to the next decision made.
import type { OutputFormat } from '../contract/index.js';
import { BODY_DAMAGES, damageImage } from './damage-image.js';
import { definedOnly, type FaultName, type FaultRates, noFaults, type RatesUpdate } from './options.js';
import type { Random } from './random.js';

export type SubmitFault = { status: number; code: string; message: string };

/** What each submit fault answers instead of accepting the request (shared contract §1.5, §8). */
const SUBMIT_FAULTS: readonly [FaultName, SubmitFault][] = [
  ['submit429', { status: 429, code: 'rateLimitExceeded', message: 'Queue capacity exceeded. Retry later.' }],
  ['submit500', { status: 500, code: 'serverError', message: 'Internal server error.' }],
  [
    'submit503',
    { status: 503, code: 'providerUnavailable', message: 'Capacity temporarily constrained. Retry.' },
  ],
  [
    'submit504',
    {
      status: 504,
      code: 'failedTaskTimeout',
      message: 'The request waited longer than the maximum queue time.',
    },
  ],
];

/** One targeted item error: item `index` of the task (every item when index is absent). */
export interface ItemFailure {
  taskUUID: string;
  index?: number | undefined;
  /** The provider error code the item fails with; `timeoutProvider` (retryable) by default. */
  code?: string | undefined;
}

export const DEFAULT_ITEM_ERROR_CODE = 'timeoutProvider';

export class Faults {
  private rates: FaultRates;
  /** `taskUUID#index` or `taskUUID#*`: items that fail with timeoutProvider whatever the rates. */
  private readonly targeted = new Map<string, string>();

  constructor(
    private readonly random: Random,
    initial: RatesUpdate = {},
  ) {
    this.rates = { ...noFaults(), ...definedOnly(initial) };
  }

  set(update: RatesUpdate): void {
    this.rates = { ...this.rates, ...definedOnly(update) };
  }

  /** Make these items fail (deterministic item errors on chosen slots, e.g. of a slot retry's task). */
  failItems(items: readonly ItemFailure[]): void {
    for (const it of items)
      this.targeted.set(`${it.taskUUID}#${it.index ?? '*'}`, it.code ?? DEFAULT_ITEM_ERROR_CODE);
  }

  /** The error code item `index` of the task fails with, when failItems targeted it. */
  itemTargeted(taskUUID: string, index: number): string | undefined {
    return this.targeted.get(`${taskUUID}#${index}`) ?? this.targeted.get(`${taskUUID}#*`);
  }

  current(): FaultRates {
    return { ...this.rates };
  }

  roll(name: FaultName): boolean {
    return this.random.chance(this.rates[name]);
  }

  /**
   * The body faults for one copy of an image (an inline item, or one GET of its URL): the first one that
   * applies to the format and rolls true damages it. Undefined when the copy stays whole.
   */
  rollDamage(bytes: Buffer, format: OutputFormat): Buffer | undefined {
    for (const kind of BODY_DAMAGES) {
      if (this.rates[kind] <= 0) continue;
      const damaged = damageImage(bytes, format, kind);
      if (damaged && this.roll(kind)) return damaged;
    }
    return undefined;
  }

  /** The submit fault for one request, or undefined to go on; checked in a fixed order. */
  rollSubmit(): SubmitFault | undefined {
    for (const [name, fault] of SUBMIT_FAULTS) if (this.roll(name)) return fault;
    return undefined;
  }
}
