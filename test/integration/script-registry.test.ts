// The script registry: every script defined once, registered once per connection, and its numeric
// replies read through named codes. Real Redis.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_STREAM_FIELDS, parseStreamEntry } from '../../src/contract/relay-events.js';
import { TaskKeys } from '../../src/tasks/keys.js';
import { APPEND_EVENT } from '../../src/tasks/lua/append-event.js';
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

  it('appends to the events stream only through the one fragment, with the contract field layout', () => {
    const own = APPEND_EVENT.trim();
    for (const [name, def] of Object.entries(SCRIPTS)) {
      const rest = def.lua.replace(own, '');
      const xadds = rest.match(/'XADD'/g)?.length ?? 0;
      // The delivery log appends to its own attempts stream (not the events stream) directly.
      expect(xadds, name).toBe(name === 'krRecordAttempt' ? 1 : 0);
      if (/appendEvent\(/.test(rest)) expect(def.lua, name).toContain(own);
    }
    expect(APPEND_EVENT).toContain(EVENT_STREAM_FIELDS.map((f) => `'${f}', ev_${f}`).join(', '));
  });

  it('writes entries the contract schema reads back', async () => {
    const stream = `kr-${uniqueId()}:events`;
    const lua = `${APPEND_EVENT}\nreturn appendEvent(KEYS[1], ARGV[1], 'batch.resumed', '', 'b1', '1700000000000', ARGV[2])`;
    const id = String(await redis.eval(lua, 1, stream, 100, JSON.stringify({ budgetUsd: 5 })));
    const entries = await redis.xrange(stream, '-', '+');
    expect(entries).toHaveLength(1);
    const [readId, fields] = entries[0] as [string, string[]];
    expect(readId).toBe(id);
    expect(parseStreamEntry(readId, fields)).toEqual({
      id,
      type: 'batch.resumed',
      batchId: 'b1',
      at: 1700000000000,
      data: { budgetUsd: 5 },
    });
    await redis.del(stream);
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
