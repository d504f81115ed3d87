// The tasks benchmarks enqueue: valid bfl:3@1 inputs of one size, as a producer would hand them in.
import { randomUUID } from 'node:crypto';

export interface BenchTaskInput {
  taskUUID: string;
  positivePrompt: string;
  width: number;
  height: number;
  outputFormat: 'JPG';
  outputQuality?: number;
}

/** The only square size bfl:3@1 accepts; outputs are 1024×1024 JPGs. */
export const IMAGE_SIDE = 1024;

/** `count` fresh tasks; `outputQuality` unset means the simulator's default (95, about 34 KB). */
export function benchTasks(count: number, outputQuality?: number): BenchTaskInput[] {
  return Array.from({ length: count }, (_, i) => ({
    taskUUID: randomUUID(),
    positivePrompt: `benchmark prompt ${i}: a lighthouse on a cliff at dusk`,
    width: IMAGE_SIDE,
    height: IMAGE_SIDE,
    outputFormat: 'JPG' as const,
    ...(outputQuality === undefined ? {} : { outputQuality }),
  }));
}
