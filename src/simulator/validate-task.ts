// One imageInference task checked against the shared wire schema, and the first broken rule turned
// into the provider's error object (code, parameter, range) the way Runware reports it (§1.4, §1.6).
import {
  modelRules,
  NUMBER_RESULTS_MAX,
  NUMBER_RESULTS_MIN,
  OUTPUT_QUALITY_MAX,
  OUTPUT_QUALITY_MIN,
  PROMPT_MAX,
  PROMPT_MIN,
  type ProviderTask,
  SAFETY_TOLERANCE_MAX,
  SEED_MAX,
  SEED_MIN,
  safeParseProviderTask,
  TTL_MIN,
  toFieldIssues,
} from '../contract/index.js';
import type { FieldIssue } from '../errors.js';
import { type ProviderErrorBody, providerError } from './provider-errors.js';

export type TaskCheck = { ok: true; task: ProviderTask } | { ok: false; error: ProviderErrorBody };

interface Range {
  type: string;
  min?: number | string;
  max?: number | string;
}

const KONTEXT = modelRules('bfl:3@1');
const widths = KONTEXT?.sizes.map((s) => s.width) ?? [];
const heights = KONTEXT?.sizes.map((s) => s.height) ?? [];

/** Ranges reported with a range error, by dotted path (the IG sample carries type/min/max). */
const RANGES: Readonly<Record<string, Range>> = {
  positivePrompt: { type: 'string', min: PROMPT_MIN, max: PROMPT_MAX },
  width: { type: 'integer', min: Math.min(...widths), max: Math.max(...widths) },
  height: { type: 'integer', min: Math.min(...heights), max: Math.max(...heights) },
  seed: { type: 'integer', min: Number(SEED_MIN), max: SEED_MAX.toString() },
  numberResults: { type: 'integer', min: NUMBER_RESULTS_MIN, max: NUMBER_RESULTS_MAX },
  outputQuality: { type: 'integer', min: OUTPUT_QUALITY_MIN, max: OUTPUT_QUALITY_MAX },
  ttl: { type: 'integer', min: TTL_MIN },
  'inputs.referenceImages': { type: 'array', min: 1, max: KONTEXT?.maxReferenceImages ?? 0 },
  'providerSettings.bfl.safetyTolerance': { type: 'integer', min: 0, max: SAFETY_TOLERANCE_MAX },
};

const REQUIRED = new Set(['taskUUID', 'model', 'positivePrompt', 'width', 'height']);
const RANGE_RULES = new Set(['min', 'max', 'type', 'seed', 'size_pair']);
/** Field names whose provider code is not simply `invalid` + the capitalised name. */
const CODE_OVERRIDES: Readonly<Record<string, string>> = {
  ttl: 'invalidTtl',
  webhookURL: 'invalidWebhookURL',
  taskUUID: 'invalidTaskUUID',
};

/**
 * Validate one task; a legacy top-level `referenceImages` is moved into `inputs` when allowed,
 * otherwise the strict schema answers it with unsupportedParameter.
 */
export function validateImageTask(
  raw: Record<string, unknown>,
  flatReferenceImagesAllowed: boolean,
): TaskCheck {
  const input = flatReferenceImagesAllowed ? liftFlatReferenceImages(raw) : raw;
  const parsed = safeParseProviderTask(input);
  if (parsed.success) return { ok: true, task: parsed.data };
  // An unknown key is reported first, as the provider rejects undeclared parameters before values.
  const issues = toFieldIssues(parsed.error);
  const issue = issues.find((i) => i.rule === 'unknown_key') ?? issues[0];
  const taskUUID = typeof raw.taskUUID === 'string' ? raw.taskUUID : undefined;
  const where = { ...(taskUUID ? { taskUUID } : {}), taskType: 'imageInference' };
  if (!issue) return { ok: false, error: providerError('invalidRequestBody', 'Invalid task.', where) };
  return { ok: false, error: { ...toProviderError(issue, raw), ...where } };
}

function toProviderError(issue: FieldIssue, raw: Record<string, unknown>): ProviderErrorBody {
  const segments = issue.path.split('.');
  const top = segments[0] ?? '';
  if (issue.rule === 'unknown_key') {
    const code = top === 'providerSettings' ? 'invalidProviderSettings' : 'unsupportedParameter';
    return providerError(code, `Unsupported parameter '${issue.path}' for model bfl:3@1: ${issue.message}.`, {
      parameter: issue.path,
    });
  }
  if (REQUIRED.has(top) && raw[top] === undefined) {
    return providerError(`missing${capitalise(top)}`, `Missing required parameter '${top}'.`, {
      parameter: top,
    });
  }
  if (issue.rule === 'size_pair') return sizePairError(issue, raw);
  const parameter = fieldOf(segments);
  const range = RANGE_RULES.has(issue.rule) ? RANGES[parameter] : undefined;
  return providerError(codeFor(segments, issue.rule), `Invalid value for '${parameter}': ${issue.message}.`, {
    parameter,
    ...range,
  });
}

/** A pair outside the table: blame width when no allowed size has it, else height. */
function sizePairError(issue: FieldIssue, raw: Record<string, unknown>): ProviderErrorBody {
  const field = widths.includes(raw.width as number) ? 'height' : 'width';
  return providerError(codeFor([field], issue.rule), `Invalid value for '${field}': ${issue.message}.`, {
    parameter: field,
    ...RANGES[field],
  });
}

/** The parameter named in the error: the field itself, never an array index inside it. */
function fieldOf(segments: string[]): string {
  const named = segments.filter((s) => !/^\d+$/.test(s));
  return named.join('.') || 'task';
}

function codeFor(segments: string[], rule: string): string {
  const [top = '', second] = segments;
  if (top === 'inputs' && second === 'referenceImages') {
    return rule === 'min' && segments.length === 2 ? 'arrayTooSmall' : 'invalidReferenceImages';
  }
  return CODE_OVERRIDES[top] ?? `invalid${capitalise(top)}`;
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function liftFlatReferenceImages(raw: Record<string, unknown>): Record<string, unknown> {
  const { referenceImages, ...rest } = raw;
  const inputs = raw.inputs as Record<string, unknown> | undefined;
  if (referenceImages === undefined || (inputs && 'referenceImages' in inputs)) return raw;
  return { ...rest, inputs: { ...(inputs ?? {}), referenceImages } };
}
