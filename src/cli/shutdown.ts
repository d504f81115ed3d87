// Clean shutdown on SIGINT/SIGTERM: run the closer once, then export the last spans; a second signal
// exits at once.
import { stopTracing } from '../tracing/start-tracing.js';

export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals) => {
    if (closing) process.exit(130);
    closing = true;
    close()
      .then(stopTracing)
      .then(
        () => process.exit(signal === 'SIGINT' ? 130 : 0),
        (err: unknown) => {
          console.error('shutdown failed:', err);
          process.exit(1);
        },
      );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
