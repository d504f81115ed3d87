// One e2e test's relay as real processes: an environment on the run's Redis and S3 server with its own
// prefix, bucket, simulator and webhook ports, and the processes and observer it opened, stopped after
// each test.
import { afterEach } from 'vitest';
import { testRedisUrl, testS3Endpoint, testSecret, uniqueId } from './env.js';
import { freePort } from './free-port.js';
import { type ManagedProcess, relayEnv, stopAll } from './processes.js';
import { openObserver, type RelayObserver } from './relay-observer.js';

export interface ProcessRig {
  /** Processes to stop after the test (push what you start). */
  readonly procs: ManagedProcess[];
  /** An observer on the relay's Redis and bucket, closed after the test. */
  observe(env: Record<string, string>): RelayObserver;
}

export function useProcessRig(): ProcessRig {
  let obs: RelayObserver | undefined;
  const rig: ProcessRig = {
    procs: [],
    observe(env) {
      obs = openObserver(env);
      return obs;
    },
  };
  afterEach(async () => {
    await stopAll(...rig.procs);
    await obs?.close();
    rig.procs.length = 0;
    obs = undefined;
  });
  return rig;
}

/** The relay roles' environment (relayEnv) for one test, and the port its simulator must listen on. */
export async function processRelayEnv(
  tag: string,
  extra: Record<string, string> = {},
): Promise<{ env: Record<string, string>; simPort: number }> {
  const id = uniqueId(tag);
  const simPort = await freePort();
  const env = relayEnv({
    redisUrl: testRedisUrl(),
    s3Endpoint: testS3Endpoint(),
    providerUrl: `http://127.0.0.1:${simPort}/v1`,
    webhookPort: await freePort(),
    queuePrefix: `kr-${id}`,
    bucket: `b-${id}`,
    secret: testSecret(),
    extra,
  });
  return { env, simPort };
}
