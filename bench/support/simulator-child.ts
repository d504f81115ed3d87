// The provider simulator in its own process, started through the CLI (`simulator`), so its work
// (images, timers, webhooks) does not share the relay's event loop — as the real provider would not.
import { type Child, spawnTsx } from './children.js';

export interface SimulatorChild {
  /** The provider endpoint (…/v1). */
  url: string;
  /** host:port, for FETCH_ALLOWED_HOSTS. */
  host: string;
  pid: number;
  stats(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startSimulatorChild(latencyMs: { min: number; max: number }): Promise<SimulatorChild> {
  const child: Child = await spawnTsx(
    ['src/cli/main.ts', 'simulator', '--port', '0', '--latency', `${latencyMs.min}-${latencyMs.max}`],
    { name: 'simulator', ready: /simulator listening: (\S+)/ },
  );
  const url = child.ready;
  const base = new URL(url);
  return {
    url,
    host: base.host,
    pid: child.pid,
    async stats() {
      const res = await fetch(new URL('/__sim/stats', base));
      return (await res.json()) as Record<string, number>;
    },
    stop: () => child.stop(),
  };
}
