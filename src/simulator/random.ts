// The simulator's source of chance: seeded (mulberry32) for repeatable tests, Math.random otherwise.
// Every random decision (faults, latencies, colours, seeds, jitter) goes through one instance.

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`; never consumes randomness when p is 0 or 1. */
  chance(p: number): boolean;
  shuffle<T>(items: readonly T[]): T[];
}

export function createRandom(seed?: number): Random {
  const next = seed === undefined ? Math.random : mulberry32(seed);
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    chance: (p) => (p <= 0 ? false : p >= 1 ? true : next() < p),
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
  };
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
