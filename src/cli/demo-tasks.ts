// The demo batch: a spread of sizes, formats, output types and result counts, so one run shows
// every path (URL, base64, data URI; JPG, PNG, WEBP; numberResults > 1).
import type { TaskInput } from '../contract/index.js';
import { MODELS } from '../contract/index.js';

const PROMPTS = [
  'a lighthouse on a cliff at dusk, oil painting',
  'replace the background with a snowy street at night',
  'a red fox curled up in fresh snow, soft light',
  'product shot of a ceramic mug on a walnut table',
  'a tiny robot watering a bonsai tree, studio lighting',
  'isometric illustration of a cosy reading nook',
];
const FORMATS = ['JPG', 'PNG', 'WEBP'] as const;
const TYPES = ['URL', 'URL', 'base64Data', 'dataURI'] as const;

export function demoTasks(count: number): TaskInput[] {
  const sizes = MODELS['bfl:3@1']!.sizes;
  return Array.from({ length: count }, (_, i) => ({
    positivePrompt: PROMPTS[i % PROMPTS.length]!,
    width: sizes[i % sizes.length]!.width,
    height: sizes[i % sizes.length]!.height,
    outputFormat: FORMATS[i % FORMATS.length]!,
    outputType: TYPES[i % TYPES.length]!,
    outputQuality: 85,
    seed: 1000 + i,
    numberResults: i % 5 === 0 ? 2 : 1,
  }));
}
