// Minimal result items and stored outputs for tests of the task record's scripts.
import type { ResultItem } from '../../src/contract/index.js';
import type { StoredOutput } from '../../src/tasks/types.js';

export const fixtureItem = (taskUUID: string, imageUUID: string): ResultItem => ({
  taskUUID,
  imageUUID,
  imageURL: 'https://x.test/i.jpg',
});

export const fixtureOutput = (slot: number): StoredOutput => ({
  slot,
  bucket: 'b',
  key: `k/${slot}`,
  size: 1,
  sha256: 'h',
  contentType: 'image/jpeg',
  imageUUID: `i${slot}`,
  seed: undefined,
  cost: 0.04,
  NSFWContent: undefined,
  storedAt: 1,
});
