// Polls a condition with a deadline: benchmarks wait for state, never for a fixed time.

/** Resolves with the first truthy value of `probe`, polled every `everyMs`; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  opts: { timeoutMs: number; everyMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 50));
  }
}
