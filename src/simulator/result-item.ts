// The wire form of one finished item (shared contract §3): seed, the output field chosen by
// outputType, cost only with includeCost, NSFWContent only when a safety check was asked for.
import {
  CONTENT_TYPES,
  FILE_EXTENSIONS,
  type OutputFormat,
  type ProviderTask,
  SEED_MAX,
} from '../contract/index.js';
import { BASE64_PREFIX_CHARS } from './damage-image.js';
import type { WireItem } from './task-store.js';

/** Price per image for bfl:3@1 at 1024×1024 (model page, shared contract §2). */
export const COST_PER_IMAGE = 0.04;
const UINT32_MAX = 0xffff_ffff;
const SEED_SPACE = SEED_MAX + 1n;

/** Item i's seed: the given seed plus i (wrapping inside the allowed range), else a random uint32. */
export function itemSeed(
  given: string | undefined,
  index: number,
  randomInt: (min: number, max: number) => number,
): string {
  if (given === undefined) return String(randomInt(0, UINT32_MAX));
  return ((BigInt(given) + BigInt(index)) % SEED_SPACE).toString();
}

export interface ItemFacts {
  imageUUID: string;
  seed: string;
  format: OutputFormat;
  bytes: Buffer;
  publicUrl: string;
  costZero: boolean;
  nsfw: boolean;
  /** base64Prefix fault: the inline field keeps only its first BASE64_PREFIX_CHARS characters. */
  base64Prefix: boolean;
  /** bothSources fault: the item carries imageURL and imageBase64Data (plus imageDataURI if asked for). */
  bothSources: boolean;
}

export function buildResultItem(task: ProviderTask, f: ItemFacts): WireItem {
  const item: WireItem = { taskType: 'imageInference', taskUUID: task.taskUUID, imageUUID: f.imageUUID };
  const outputType = task.outputType ?? 'URL';
  const base64 = () => {
    const all = f.bytes.toString('base64');
    return f.base64Prefix ? all.slice(0, BASE64_PREFIX_CHARS) : all;
  };
  if (outputType === 'URL' || f.bothSources)
    item.imageURL = `${f.publicUrl}/image/${f.imageUUID}.${FILE_EXTENSIONS[f.format]}`;
  if (outputType === 'base64Data' || f.bothSources) item.imageBase64Data = base64();
  if (outputType === 'dataURI') item.imageDataURI = `data:${CONTENT_TYPES[f.format]};base64,${base64()}`;
  item.seed = f.seed;
  if (task.includeCost) item.cost = f.costZero ? 0 : COST_PER_IMAGE;
  if (task.safety?.checkContent === true || task.safety?.mode === 'fast') item.NSFWContent = f.nsfw;
  return item;
}
