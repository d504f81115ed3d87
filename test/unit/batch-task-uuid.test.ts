// The taskUUID of a batch entry without one: a pure function of (batch id, position, canonical task),
// shaped as the UUID v4 the provider requires.
import { describe, expect, it } from 'vitest';
import { taskUUIDSchema } from '../../src/contract/index.js';
import { batchTaskUuid, canonicalJson } from '../../src/producer/batch-task-uuid.js';
import { prepareBatchTask } from '../../src/producer/prepare-task.js';

const task = { positivePrompt: 'a lighthouse at dusk', width: 1024, height: 1024 };

describe('derived taskUUIDs of batch entries', () => {
  it('the same batch, position and task give the same UUID, in the provider’s UUID v4 format', () => {
    const a = prepareBatchTask(task, 'nightly', 3).taskUUID;
    const b = prepareBatchTask({ ...task }, 'nightly', 3).taskUUID;
    expect(a).toBe(b);
    expect(taskUUIDSchema.safeParse(a).success).toBe(true);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('another batch, another position or another task content gives another UUID', () => {
    const base = prepareBatchTask(task, 'nightly', 3).taskUUID;
    const others = [
      prepareBatchTask(task, 'nightly-2', 3).taskUUID,
      prepareBatchTask(task, 'nightly', 4).taskUUID,
      prepareBatchTask({ ...task, positivePrompt: 'a lighthouse at dawn' }, 'nightly', 3).taskUUID,
      prepareBatchTask({ ...task, seed: 1 }, 'nightly', 3).taskUUID,
    ];
    expect(new Set([base, ...others]).size).toBe(5);
  });

  it('spellings of one task that validate the same (key order, seed as number or string, format case) share a UUID', () => {
    const a = prepareBatchTask({ ...task, seed: 42, outputFormat: 'jpeg' }, 'b', 1).taskUUID;
    const b = prepareBatchTask(
      { outputFormat: 'JPG', seed: '42', height: 1024, width: 1024, positivePrompt: task.positivePrompt },
      'b',
      1,
    ).taskUUID;
    expect(a).toBe(b);
  });

  it('a taskUUID given in the entry is kept as it is', () => {
    const own = '3b0c2f5e-6a9d-4a51-9d0e-2f7f1c9a2b11';
    expect(prepareBatchTask({ ...task, taskUUID: own }, 'b', 1).taskUUID).toBe(own);
  });

  it('batch id and position are separated unambiguously', () => {
    // "ab" at line 12 must not meet "ab1" at line 2.
    expect(batchTaskUuid('ab', 12, task)).not.toBe(batchTaskUuid('ab1', 2, task));
  });

  it('canonical JSON sorts keys at every level and drops undefined values', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined }, s: 9n })).toBe(
      '{"a":{"d":[2,{"y":2,"z":1}]},"b":1,"s":9}',
    );
  });
});
