// How a data-parallel world splits the data. Training: every rank draws the epoch's order with the
// same seed, cuts it into global batches of --batch images, and takes its own slice of each, so
// one step of W processes trains exactly the global batch that one process would, and the order of
// global batches does not depend on W (a run resumed with another world size continues it).
// Validation: each rank scores a contiguous block; the blocks, gathered in rank order, are the
// split in its own order.
import { DataLoader, type DataSubset, type LoaderOptions } from '../data/index.js';

export interface Shard {
  rank: number;
  worldSize: number;
}

/** Images per process for a global batch; the global batch must split evenly. */
export function perProcessBatch(globalBatch: number, worldSize: number): number {
  if (globalBatch % worldSize !== 0) {
    throw new Error(`--batch ${globalBatch} is the global batch of all ${worldSize} processes and must split evenly between them; use a multiple of ${worldSize}, e.g. ${Math.max(worldSize, Math.round(globalBatch / worldSize) * worldSize)}`);
  }
  return globalBatch / worldSize;
}

/** The training loader of one rank: its slice of every whole global batch (a short last batch is dropped). */
export class ShardedTrainLoader extends DataLoader {
  readonly globalBatch: number;
  constructor(subset: DataSubset, options: LoaderOptions, readonly shard: Shard) {
    super(subset, { ...options, batchSize: perProcessBatch(options.batchSize, shard.worldSize), dropLast: true });
    this.globalBatch = options.batchSize;
    if (subset.images.length < this.globalBatch) {
      throw new Error(`the training split has ${subset.images.length} images, fewer than one global batch (--batch ${this.globalBatch}); lower --batch`);
    }
  }

  override get batchesPerEpoch(): number {
    return Math.floor(this.subset.images.length / this.globalBatch);
  }

  override epochOrder(epoch: number): Int32Array {
    const global = super.epochOrder(epoch);
    const local = this.options.batchSize;
    const out = new Int32Array(this.batchesPerEpoch * local);
    for (let step = 0; step < this.batchesPerEpoch; step++) {
      const from = step * this.globalBatch + this.shard.rank * local;
      out.set(global.subarray(from, from + local), step * local);
    }
    return out;
  }
}

/** The [start, end) of `rank`'s contiguous block of n items: sizes differ by at most one. */
export function blockOf(n: number, { rank, worldSize }: Shard): [number, number] {
  const base = Math.floor(n / worldSize);
  const extra = n % worldSize;
  const start = rank * base + Math.min(rank, extra);
  return [start, start + base + (rank < extra ? 1 : 0)];
}

/** The evaluation loader of one rank: its contiguous block of the split, in order. */
export class ShardedEvalLoader extends DataLoader {
  constructor(subset: DataSubset, options: LoaderOptions, readonly shard: Shard) {
    super(subset, { ...options, order: 'sequential' });
  }

  override get batchesPerEpoch(): number {
    const [start, end] = blockOf(this.subset.images.length, this.shard);
    return Math.ceil((end - start) / this.options.batchSize);
  }

  override epochOrder(): Int32Array {
    const [start, end] = blockOf(this.subset.images.length, this.shard);
    return Int32Array.from({ length: end - start }, (_, i) => start + i);
  }
}
