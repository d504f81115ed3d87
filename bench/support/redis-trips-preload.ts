// Preloaded (`--import`) into a relay child by the `redis` benchmark: counts the Redis commands this
// process sends and its round trips — a round trip starts when a command goes out while none of the
// process's commands is awaiting its reply, so commands sent together (a MULTI, a pipeline, calls
// issued in the same tick) share one. With one task at a time that is the task's sequential Redis waits.
// Blocking reads (BullMQ's BZPOPMIN on its own connection) wait for work, not for Redis: not counted.
// On SIGUSR2 it writes {commands, roundTrips, byCommand} to $BENCH_REDIS_TRIPS_DIR/<pid>.json and resets.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';

const BLOCKING = new Set([
  'bzpopmin',
  'bzpopmax',
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'bzmpop',
  'blmpop',
]);

let outstanding = 0;
let commands = 0;
let roundTrips = 0;
let byCommand: Record<string, number> = {};

type Sent = { name: string; promise: Promise<unknown> };
const proto = Redis.prototype as unknown as { sendCommand(command: Sent, ...rest: unknown[]): unknown };
const original = proto.sendCommand;
proto.sendCommand = function (this: unknown, command: Sent, ...rest: unknown[]) {
  const name = String(command.name).toLowerCase();
  if (!BLOCKING.has(name)) {
    commands++;
    byCommand[name] = (byCommand[name] ?? 0) + 1;
    if (outstanding === 0) roundTrips++;
    outstanding++;
    const done = () => {
      outstanding--;
    };
    command.promise.then(done, done);
  }
  return original.call(this, command, ...rest);
};

process.on('SIGUSR2', () => {
  const dir = process.env.BENCH_REDIS_TRIPS_DIR;
  if (dir) {
    // Written whole, then renamed: the reader never sees half a file.
    const file = join(dir, `${process.pid}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify({ commands, roundTrips, byCommand }));
    renameSync(`${file}.tmp`, file);
  }
  commands = 0;
  roundTrips = 0;
  byCommand = {};
});
