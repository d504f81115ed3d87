// Knows every piece of background work (item timers, webhook and upload deliveries, their retry
// waits) so idle() is exact and close() can cancel it all: work is tracked, sleeps are abortable.
import { setMaxListeners } from 'node:events';

export class WorkTracker {
  private pending = 0;
  private waiters: (() => void)[] = [];
  private readonly controller = new AbortController();

  constructor() {
    // Every pending sleep and request listens on this one signal; thousands at once are normal.
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborted on close: pass it to outgoing requests so they stop too. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Run `work` in the background; failures after close are expected and swallowed. */
  run(work: () => Promise<unknown>): Promise<void> {
    this.pending++;
    return work()
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.pending--;
        if (this.pending === 0) for (const w of this.waiters.splice(0)) w();
      });
  }

  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves after `ms`, or rejects as soon as the simulator closes. */
  sleep(ms: number): Promise<void> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(new Error('simulator closed'));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(new Error('simulator closed'));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Cancel every sleep and request; resolves once all tracked work has unwound. */
  async close(): Promise<void> {
    this.controller.abort();
    await this.idle();
  }
}
