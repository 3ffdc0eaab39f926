// `aplnet evaluate` over many processes. Every rank reads the run and the data as one process
// would (evaluateRun, unchanged), but each split's logits are collected in shards: every rank
// scores its blocks of the split and the rows are gathered, in the split's order, onto every rank.
// Rank 0 then computes the metrics, fits the temperature and writes calibration.json, metrics.json
// and the report exactly as one process does; the other ranks write nothing and are done once the
// logits are in. An ensemble is evaluated by rank 0 alone (its members read the data one by one).
import { DataLoader, type DataSubset } from '../data/index.js';
import type { CollectedLogits } from '../eval/index.js';
import { collectLogitsInMode, type TtaMode } from '../train/index.js';
import { evaluateRun, type EvaluateRunOptions, type RunEvaluation } from './evaluate-run.js';
import { loadRun, type LoadedRun } from './load-run.js';
import { allGatherBytes } from './sharded-transfer.js';
import { joinInferenceWorld, roundsOf, type InferenceWorld } from './sharded-world.js';

/** Batches per rank in each round (see roundsOf): every round is a collective, none waits long. */
const BATCHES_PER_ROUND = 1;

/** One rank's items [start, end) of a split, in order, as a loader. */
class RangeLoader extends DataLoader {
  constructor(subset: DataSubset, options: DataLoader['options'], readonly start: number, readonly end: number) {
    super(subset, { ...options, order: 'sequential', dropLast: false });
  }
  override get batchesPerEpoch(): number {
    return Math.ceil((this.end - this.start) / this.options.batchSize);
  }
  override epochOrder(): Int32Array {
    return Int32Array.from({ length: this.end - this.start }, (_, i) => this.start + i);
  }
}

/**
 * collectLogitsInMode over the world: this rank's blocks of the loader's split, every rank's rows
 * gathered in order. Rounds are whole batches long, so each batch is the one a single process runs.
 */
export function shardedLogitCollector(world: InferenceWorld) {
  return async (model: LoadedRun['model'], loader: DataLoader, device: string, tta: TtaMode): Promise<CollectedLogits> => {
    const { subset, options } = loader;
    const n = subset.images.length;
    const numClasses = model.config.numClasses;
    const logits = new Float32Array(n * numClasses);
    let filled = 0;
    for (const { start, end } of roundsOf(n, options.batchSize * BATCHES_PER_ROUND, world.rank, world.worldSize)) {
      const mine = start < end ? (await collectLogitsInMode(model, new RangeLoader(subset, options, start, end), device, tta)).logits : new Float32Array(0);
      for (const bytes of allGatherBytes(new Uint8Array(mine.buffer, mine.byteOffset, mine.byteLength), world.worldSize)) {
        logits.set(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4), filled);
        filled += bytes.byteLength / 4;
      }
    }
    if (filled !== n * numClasses) throw new Error(`sharded evaluate: ${filled / numClasses} rows of logits came back for ${n} images; this is a bug, please report it`);
    return { logits, labels: subset.labels.slice(), paths: subset.images.map((image) => image.path), numClasses };
  };
}

export interface EvaluationShare {
  /** evaluateRun, with each split's logits collected across the world when there is one. */
  evaluateRun(run: LoadedRun, device: string, options: EvaluateRunOptions): Promise<RunEvaluation>;
}

/**
 * This process's part in `aplnet evaluate`. Alone: evaluateRun as it is. Rank 0: evaluateRun with
 * sharded logits (then everything after it, alone). Any other rank: it loads the run, takes its
 * share of every split's logits inside evaluateRun, writes nothing, and gets null: it is done.
 * Call it before taking the run's lock: only rank 0 locks and writes.
 */
export async function evaluationShare(runDir: string, device: string, options: EvaluateRunOptions): Promise<EvaluationShare | null> {
  const world = await joinInferenceWorld();
  if (!world) return { evaluateRun };
  if (world.rank === 0) {
    return {
      async evaluateRun(run, runDevice, runOptions) {
        if (run.members) {
          // Rank 0 alone: the other ranks saw the ensemble too and have left.
          return evaluateRun(run, runDevice, runOptions);
        }
        const evaluation = await evaluateRun(run, runDevice, { ...runOptions, collect: shardedLogitCollector(world) });
        await world.leave();
        return evaluation;
      },
    };
  }
  const run = await loadRun(runDir, { device, calibration: 'optional' });
  try {
    if (run.members) {
      console.error(`aplnet: rank ${world.rank}: ${runDir} is an ensemble, which rank 0 evaluates alone`);
      return null;
    }
    await evaluateRun(run, device, { ...options, collect: shardedLogitCollector(world), saveCalibration: false, log: () => undefined });
    await world.leave();
    return null;
  } finally {
    run.model.dispose();
  }
}
