import { randomFor } from './prng.js';

export function classCounts(labels: ArrayLike<number>, classCount: number): number[] {
  const counts = new Array<number>(classCount).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]]++;
  return counts;
}

/**
 * Inverse-frequency loss weights, normalised so the average weight per training sample is 1
 * (the loss keeps its usual scale). Classes with no samples get weight 0.
 */
export function inverseFrequencyClassWeights(labels: ArrayLike<number>, classCount: number): number[] {
  const counts = classCounts(labels, classCount);
  const present = counts.filter((count) => count > 0).length;
  return counts.map((count) => (count > 0 ? labels.length / (present * count) : 0));
}

/**
 * A balanced epoch: `length` draws with replacement where every class is equally likely, then a
 * uniformly random member of it. Seeded by (seed, epoch) so each epoch differs but is reproducible.
 */
export function balancedEpochOrder(labels: ArrayLike<number>, classCount: number, seed: number, epoch: number, length = labels.length): Int32Array {
  const members: number[][] = Array.from({ length: classCount }, () => []);
  for (let i = 0; i < labels.length; i++) members[labels[i]].push(i);
  const present = members.filter((list) => list.length > 0);
  const random = randomFor(seed, epoch, 0xba1a);
  const order = new Int32Array(present.length === 0 ? 0 : length);
  for (let i = 0; i < order.length; i++) {
    const list = present[Math.floor(random() * present.length)];
    order[i] = list[Math.floor(random() * list.length)];
  }
  return order;
}
