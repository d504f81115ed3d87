// The script registry: every script defined once, registered once per connection, and its numeric
// replies read through named codes. Real Redis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskKeys } from '../../src/tasks/keys.js';
import { codeOf, SCRIPT_CODES, ScriptCodeError } from '../../src/tasks/lua/script-codes.js';
import { SCRIPTS, scripted } from '../../src/tasks/lua/script-registry.js';
import { testRedisUrl, uniqueId } from '../helpers/env.js';

let redis: Redis;
beforeAll(() => {
  redis = new Redis(testRedisUrl());
});
afterAll(() => redis.quit());

describe('script registry', () => {
  it('names every return code and refuses a number its table does not list', () => {
    expect(codeOf('createTask', 1)).toBe('created');
    expect(codeOf('createTask', 0)).toBe('exists');
    expect(codeOf('recordItem', -3)).toBe('extra');
    expect(codeOf('finishTask', 2)).toBe('batchEnded');
    expect(codeOf('setBudget', -1)).toBe('unknown');
    expect(codeOf('recordAttempt', 2)).toBe('disabled');
    expect(() => codeOf('finishTask', 7)).toThrow(ScriptCodeError);
    try {
      codeOf('applied', 5);
    } catch (err) {
      expect((err as ScriptCodeError).code).toBe('SCRIPT_CODE_UNKNOWN');
    }
    for (const table of Object.values(SCRIPT_CODES)) {
      const names = Object.values(table);
      expect(new Set(names).size).toBe(names.length);
    }
  });

  it('declares at least as many KEYS as each script reads', () => {
    for (const [name, def] of Object.entries(SCRIPTS)) {
      const used = [...def.lua.matchAll(/KEYS\[(\d+)\]/g)].map((m) => Number(m[1]));
      expect(Math.max(0, ...used), name).toBeLessThanOrEqual(def.numberOfKeys);
    }
  });

  it('registers every script on a connection once and runs them by name', async () => {
    const conn = new Redis(testRedisUrl());
    try {
      const s = scripted(conn);
      expect(scripted(conn)).toBe(s);
      for (const name of Object.keys(SCRIPTS))
        expect(typeof (s as unknown as Record<string, unknown>)[name]).toBe('function');
      const keys = new TaskKeys(`kr-${uniqueId()}`, 'q');
      const task = keys.task(crypto.randomUUID());
      const fields = JSON.stringify(['state', 'submitting']);
      expect(codeOf('createTask', await s.krCreateTask(task, fields))).toBe('created');
      expect(codeOf('createTask', await s.krCreateTask(task, fields))).toBe('exists');
      await conn.del(task);
    } finally {
      conn.disconnect();
    }
  });
});
