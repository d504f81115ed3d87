// The numbers our Lua scripts return, named in one place. Scripts return small integers (Lua has no
// enums); every caller reads them through `codeOf`, which turns a number into its name or throws when a
// script returned something its table does not know (a script and its table out of step).
import { RelayError } from '../../errors.js';

/** A script's return codes: number → name. */
export type CodeTable = Readonly<Record<number, string>>;

export const SCRIPT_CODES = {
  /** krCreateTask */
  createTask: { 1: 'created', 0: 'exists' },
  /** krMarkSubmitted, krResetForRetry, krStartSlotRetry, krReopenPartial, krRescheduleDelivery,
   * krScheduleDeliveries: the change was made, or the record was not in the state it needs. */
  applied: { 1: 'applied', 0: 'skipped' },
  /** krRecordItem (first element of its reply) */
  recordItem: { 1: 'new', 0: 'duplicate', [-1]: 'unknown', [-2]: 'late', [-3]: 'extra' },
  /** krRecordError (first element of its reply) */
  recordError: { 1: 'new', 0: 'duplicate', [-1]: 'unknown', [-2]: 'late' },
  /** krFinishTask */
  finishTask: { 0: 'already', 1: 'ended', 2: 'batchEnded' },
  /** krSetBudget */
  setBudget: { [-1]: 'unknown', 0: 'set', 1: 'resumed' },
  /** krAdmitToBudget (first element) */
  admitToBudget: { 1: 'admitted', 0: 'refused' },
  /** krRecordAttempt */
  recordAttempt: { 0: 'delivered', 1: 'failed', 2: 'disabled' },
  /** krNoteWebhook, krNotePolled: whether this call switched webhook health */
  healthSwitch: { 1: 'unchanged', 2: 'switched' },
  /** krAdmission with op 'admit' (first element; other ops return counts) */
  admission: { 1: 'admitted', 0: 'waiting' },
} as const satisfies Record<string, CodeTable>;

export type ScriptCodes = typeof SCRIPT_CODES;
/** The name of a code in table `T`, e.g. CodeName<'finishTask'> = 'already' | 'ended' | 'batchEnded'. */
export type CodeName<T extends keyof ScriptCodes> = ScriptCodes[T][keyof ScriptCodes[T]];

export class ScriptCodeError extends RelayError {
  constructor(table: string, value: unknown) {
    super('SCRIPT_CODE_UNKNOWN', `script returned ${String(value)}, which is not a ${table} code`);
  }
}

/** The name of `value` in table `table`; throws ScriptCodeError for a number the table does not list. */
export function codeOf<T extends keyof ScriptCodes>(table: T, value: number): CodeName<T> {
  const codes: CodeTable = SCRIPT_CODES[table];
  const name = codes[value];
  if (name === undefined) throw new ScriptCodeError(table, value);
  return name as CodeName<T>;
}
