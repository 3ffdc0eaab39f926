import type { Augmentation } from './augmentation.js';
import type { ChannelStats } from './channel-stats.js';
import { balancedEpochOrder } from './class-balance.js';
import { DataError } from './errors.js';
import type { ImageStore, StoredImage } from './image-store.js';
import { randomFor, shuffleInPlace } from './prng.js';
import type { BatchItem } from './worker-tasks.js';
import type { WorkerPool } from './worker-pool.js';

/** The images of one split with everything needed to turn them into batches. */
export interface DataSubset {
  name: string;
  images: (StoredImage & { key: string })[];
  /** Class index of each image, aligned with `images`. */
  labels: Int32Array;
  classNames: string[];
  imageSize: number;
  stats: ChannelStats;
  store: ImageStore;
  pool: WorkerPool;
}

export interface LoaderOptions {
  batchSize: number;
  /** sequential for evaluation; shuffle or balanced (class-balanced sampling with replacement) for training. */
  order: 'sequential' | 'shuffle' | 'balanced';
  seed: number;
  augmentation: Augmentation | null;
  /** Drop a final short batch (keeps BatchNorm statistics stable); default false. */
  dropLast?: boolean;
  /** Batches prepared ahead of the one being consumed; default 1 (the next batch while this one trains). */
  prefetch?: number;
}

/** One batch: x is normalised NCHW float32 of `shape`, y the class indices, paths for reporting. */
export interface Batch {
  x: Float32Array;
  y: Int32Array;
  paths: string[];
  shape: [number, number, number, number];
}

/**
 * Yields batches for an epoch, preparing the next while the caller trains on the current one.
 * Order and augmentation depend only on (seed, epoch), never on timing or worker count.
 */
export class DataLoader {
  constructor(
    readonly subset: DataSubset,
    readonly options: LoaderOptions,
  ) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new DataError('loader', 'bad-config', `batchSize ${options.batchSize} must be a positive integer`);
    }
  }

  get batchesPerEpoch(): number {
    const count = this.subset.images.length / this.options.batchSize;
    return this.options.dropLast ? Math.floor(count) : Math.ceil(count);
  }

  /** The sample indices of an epoch, in the order they will be served. */
  epochOrder(epoch: number): Int32Array {
    const { labels, classNames } = this.subset;
    if (this.options.order === 'balanced') return balancedEpochOrder(labels, classNames.length, this.options.seed, epoch);
    const order = Array.from({ length: labels.length }, (_, i) => i);
    if (this.options.order === 'shuffle') shuffleInPlace(order, randomFor(this.options.seed, epoch, 0x5f1e));
    return Int32Array.from(order);
  }

  async *epoch(epoch: number): AsyncGenerator<Batch> {
    const order = this.epochOrder(epoch);
    const starts: number[] = [];
    for (let start = 0; start < order.length; start += this.options.batchSize) {
      if (this.options.dropLast && start + this.options.batchSize > order.length) break;
      starts.push(start);
    }
    const ahead = Math.max(0, this.options.prefetch ?? 1);
    const pending: Promise<Batch>[] = [];
    let next = 0;
    const fill = () => {
      while (next < starts.length && pending.length <= ahead) {
        const start = starts[next++];
        const batch = this.buildBatch(epoch, order, start, Math.min(start + this.options.batchSize, order.length));
        batch.catch(() => undefined); // observed when awaited; avoids an unhandled rejection if the consumer stops early
        pending.push(batch);
      }
    };
    fill();
    while (pending.length > 0) {
      const batch = await pending.shift()!;
      fill();
      yield batch;
    }
  }

  private async buildBatch(epoch: number, order: Int32Array, start: number, end: number): Promise<Batch> {
    const { images, labels, imageSize, stats, store, pool } = this.subset;
    const indices = Array.from(order.subarray(start, end));
    const decoded = await store.pixels(indices.map((i) => images[i]));
    const items: BatchItem[] = decoded.map((image, j) => ({
      pixels: image.pixels,
      width: image.width,
      height: image.height,
      seedParts: this.options.augmentation ? [this.options.seed, epoch, start + j, indices[j]] : null,
    }));
    // One task per worker, so both cores work on every batch.
    const chunkCount = Math.max(1, Math.min(pool.size, items.length));
    const chunkSize = Math.ceil(items.length / chunkCount);
    const chunks = await Promise.all(
      Array.from({ length: chunkCount }, (_, c) =>
        pool.run<Float32Array>({ kind: 'augment-normalize', items: items.slice(c * chunkSize, (c + 1) * chunkSize), augmentation: this.options.augmentation, stats }),
      ),
    );
    const x = chunks.length === 1 ? chunks[0] : new Float32Array(items.length * 3 * imageSize * imageSize);
    if (chunks.length > 1) {
      let offset = 0;
      for (const chunk of chunks) {
        x.set(chunk, offset);
        offset += chunk.length;
      }
    }
    return {
      x,
      y: Int32Array.from(indices, (i) => labels[i]),
      paths: indices.map((i) => images[i].path),
      shape: [indices.length, 3, imageSize, imageSize],
    };
  }
}
