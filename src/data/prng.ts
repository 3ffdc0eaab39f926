/**
 * Seeded randomness. Every random decision in the data layer draws from a generator seeded by
 * (seed, epoch, sample index), never from a shared stream, so the result does not depend on
 * which worker handles which sample or in what order batches finish.
 */

export type Random = () => number;

/** mulberry32: small, fast, good enough statistical quality for augmentation and shuffling. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Combines integers into one 32-bit seed (splitmix32 finalizer per part) so nearby inputs give unrelated seeds. */
export function mixSeed(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    hash = (hash ^ (part >>> 0)) >>> 0;
    hash = Math.imul(hash ^ (hash >>> 16), 0x21f0aaad) >>> 0;
    hash = Math.imul(hash ^ (hash >>> 15), 0x735a2d97) >>> 0;
    hash = (hash ^ (hash >>> 15)) >>> 0;
  }
  return hash;
}

export function randomFor(...parts: number[]): Random {
  return mulberry32(mixSeed(...parts));
}

/** Uniform in [low, high). */
export function uniform(random: Random, low: number, high: number): number {
  return low + (high - low) * random();
}

export function randomInt(random: Random, exclusiveMax: number): number {
  return Math.floor(random() * exclusiveMax);
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const held = items[i];
    items[i] = items[j];
    items[j] = held;
  }
  return items;
}
