// The relay's roles as separate processes (`serve --role webhook|worker` through the CLI), as they
// are deployed: a benchmark can then read a role's own memory and CPU by pid.
import { type Child, spawnTsx } from './children.js';

/** The webhook server on `port`; ready when /healthz answers. `nodeArgs`: Node flags after tsx's. */
export function startWebhookChild(
  env: Record<string, string>,
  port: number,
  nodeArgs?: string[],
): Promise<Child> {
  return spawnTsx(['src/cli/main.ts', 'serve', '--role', 'webhook'], {
    name: 'webhook server',
    env: { ...env, PORT: String(port) },
    probe: async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
    ...(nodeArgs ? { nodeArgs } : {}),
  });
}

/** The worker; `probe` says when it has started working (e.g. the first task was submitted). */
export function startWorkerChild(
  env: Record<string, string>,
  probe: () => Promise<boolean>,
  nodeArgs?: string[],
): Promise<Child> {
  return spawnTsx(['src/cli/main.ts', 'serve', '--role', 'worker'], {
    name: 'worker',
    env,
    probe,
    ...(nodeArgs ? { nodeArgs } : {}),
  });
}
