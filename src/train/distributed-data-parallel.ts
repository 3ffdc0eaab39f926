// DistributedDataParallel for aplnet's Learner, as torch.nn.parallel.DistributedDataParallel does
// it: parameters and buffers broadcast from rank 0 at the start, gradients all-reduced and averaged
// in buckets by c10d's Reducer while backward still runs, batch-norm buffers broadcast from rank 0
// before every forward (per-process statistics, DDP's default) unless batch norm is synchronised.
import type { DataLoader } from '../data/index.js';
import type { CollectedLogits } from '../eval/index.js';
import { collectLogits } from '../eval/index.js';
import type { AplNet } from '../model/index.js';
import { GradientReducer, allGather, allReduce, broadcast, fromTypedArray, type Tensor } from '../torch/index.js';
import type { Callback, DataParallelStep } from './learner.js';
import { ShardedEvalLoader, type Shard } from './distributed-sampler.js';
import { useSyncBatchNorm } from './distributed-sync-bn.js';

export interface DataParallelOptions {
  /** Normalise with the global batch's statistics (torch.nn.SyncBatchNorm); default per process. */
  syncBatchNorm?: boolean;
  /** Gradient bucket size; default 25 MB as PyTorch's DDP. */
  bucketCapMb?: number;
}

export class DistributedDataParallel implements DataParallelStep {
  private readonly reducer: GradientReducer;
  private readonly buffers: Tensor[];
  readonly syncBatchNorm: boolean;
  /** Milliseconds spent in the step's own collectives (buffers, loss agreement); the gradient all-reduce overlaps backward. */
  collectiveMs = 0;

  constructor(readonly model: AplNet, readonly shard: Shard, { syncBatchNorm = false, bucketCapMb = 25 }: DataParallelOptions = {}) {
    // Every rank starts from rank 0's weights and statistics, whatever its own initialisation was.
    broadcast([...model.stateDict().values()], 0);
    this.buffers = model.namedBuffers().map(([, t]) => t);
    this.syncBatchNorm = syncBatchNorm;
    if (syncBatchNorm) useSyncBatchNorm(model);
    this.reducer = new GradientReducer(model.parameters(), { bucketCapMb });
  }

  beforeForward(): void {
    const started = performance.now();
    if (!this.syncBatchNorm && this.buffers.length) broadcast(this.buffers, 0);
    this.reducer.prepareForward();
    this.reducer.prepareBackward();
    this.collectiveMs += performance.now() - started;
  }

  agree(loss: number, stop: boolean): { losses: number[]; stop: boolean } {
    const started = performance.now();
    const mine = fromTypedArray(Float64Array.of(loss, stop ? 1 : 0), [2]);
    const all = allGather(mine);
    const values = all.data<'float64'>();
    mine.dispose();
    all.dispose();
    this.collectiveMs += performance.now() - started;
    const losses = Array.from({ length: this.shard.worldSize }, (_, r) => values[2 * r]);
    return { losses, stop: losses.some((_, r) => values[2 * r + 1] !== 0) };
  }

  reduceEpoch(sums: { seen: number; lossSum: number; correct: number }): { seen: number; lossSum: number; correct: number } {
    const t = fromTypedArray(Float64Array.of(sums.seen, sums.lossSum, sums.correct), [3]);
    allReduce(t, 'sum');
    const [seen, lossSum, correct] = t.data<'float64'>();
    t.dispose();
    return { seen, lossSum, correct };
  }

  async collectValidation(model: AplNet, loader: DataLoader, device: string): Promise<CollectedLogits> {
    // Same statistics on every rank before scoring: the ones rank 0 will save.
    if (!this.syncBatchNorm && this.buffers.length) broadcast(this.buffers, 0);
    const block = new ShardedEvalLoader(loader.subset, loader.options, this.shard);
    const mine = await collectLogits(model, block, device);
    const logits = gatherRows(mine.logits, mine.numClasses, loader.subset.images.length, this.shard);
    return { logits, labels: loader.subset.labels.slice(), paths: loader.subset.images.map((image) => image.path), numClasses: mine.numClasses };
  }

  /** The gradient buckets the Reducer uses now (bytes). */
  bucketBytes(): number[] {
    return this.reducer.bucketBytes();
  }

  detach(): void {
    this.reducer.detach();
  }
}

/** Every rank's rows of an [n, width] block split (blockOf), gathered in rank order: the whole split's rows in order. */
export function gatherRows(rows: Float32Array, width: number, total: number, shard: Shard): Float32Array {
  const most = Math.ceil(total / shard.worldSize);
  const padded = new Float32Array(most * width);
  padded.set(rows);
  const mine = fromTypedArray(padded, [most, width]);
  const all = allGather(mine);
  const values = all.data<'float32'>();
  mine.dispose();
  all.dispose();
  const out = new Float32Array(total * width);
  let offset = 0;
  for (let rank = 0; rank < shard.worldSize; rank++) {
    const base = Math.floor(total / shard.worldSize);
    const count = base + (rank < total % shard.worldSize ? 1 : 0);
    out.set(values.subarray(rank * most * width, rank * most * width + count * width), offset);
    offset += count * width;
  }
  return out;
}

/**
 * Keeps every rank's loop position equal to rank 0's after each epoch (best score, patience, an
 * early stop), since only rank 0 runs the callbacks that decide them. Runs last, on every rank.
 */
export function followRankZero(rank: number): Callback {
  return {
    afterEpoch(learner) {
      const p = learner.position;
      const decided = fromTypedArray(Float64Array.of(p.bestScore, p.bestEpoch, p.epochsWithoutImprovement, learner.stopRequest === 'early-stopped' ? 1 : 0), [4]);
      broadcast(decided, 0);
      const [bestScore, bestEpoch, epochsWithoutImprovement, earlyStop] = decided.data<'float64'>();
      decided.dispose();
      if (rank === 0) return;
      Object.assign(p, { bestScore, bestEpoch, epochsWithoutImprovement });
      if (earlyStop) learner.stopRequest = 'early-stopped';
    },
  };
}
