// A training run as one rank of a data-parallel world sees it. Rank 0 is the run's only writer: it
// locks the folder, prepares and records the data and configuration, then tells the others the
// folder is ready; they read it as a resumed run would (same config, split and classes, never
// writing), and every rank waits until all have their data before the first collective. Only rank 0
// logs, checkpoints and calibrates.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PreparedDataset, LoaderOptions } from '../data/index.js';
import type { AplNet } from '../model/index.js';
import { destroyProcessGroup, distributedStore, initProcessGroup, type WorldEnv } from '../torch/index.js';
import { readJson, writeJsonAtomic } from '../io/index.js';
import type { Callback } from './learner.js';
import type { LoopPosition } from './checkpoint.js';
import { DistributedDataParallel, followRankZero } from './distributed-data-parallel.js';
import { ShardedTrainLoader, perProcessBatch } from './distributed-sampler.js';

const RUN_READY = 'aplnet/run-folder-ready';
const dataReady = (rank: number): string => `aplnet/data-ready/${rank}`;
const WORLD_FILE = 'world.json';

/** How long ranks wait for each other to read and cache the data (APLNET_DIST_PREPARE_TIMEOUT seconds; default 6 h). */
function prepareTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.APLNET_DIST_PREPARE_TIMEOUT;
  if (text === undefined) return 6 * 3600_000;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`APLNET_DIST_PREPARE_TIMEOUT=${JSON.stringify(text)} must be a whole number of seconds`);
  return seconds * 1000;
}

/** What a run folder records of the world that trained it (rank 0 writes it; see README "Scaling"). */
interface WorldRecord {
  worldSize: number;
  globalBatch: number;
  perProcessBatch: number;
  syncBatchNorm: boolean;
  backend: string;
  /** Global step at which this world size took over. */
  fromStep: number;
}

export class RankRole {
  private constructor(readonly world: WorldEnv, readonly backend: 'gloo' | 'nccl') {}

  /** Joins the world described by the torchrun environment: gloo for CPU, nccl for CUDA. */
  static async join(world: WorldEnv, device: string): Promise<RankRole> {
    const backend = device.startsWith('cuda') ? 'nccl' : 'gloo';
    await initProcessGroup({ ...world, backend });
    return new RankRole(world, backend);
  }

  get rank(): number {
    return this.world.rank;
  }
  get writes(): boolean {
    return this.world.rank === 0;
  }
  get shard(): { rank: number; worldSize: number } {
    return { rank: this.world.rank, worldSize: this.world.worldSize };
  }

  /** Ranks other than 0 wait here until rank 0 has locked, recovered and written the run folder. */
  async waitForRunFolder(): Promise<void> {
    if (this.writes) return;
    const answer = await distributedStore.get(RUN_READY, prepareTimeoutMs());
    if (answer !== 'ok') throw new Error(`rank 0 failed before training started: ${answer}`);
  }
  /** Rank 0: the run folder holds config, split and classes; the others may read them. */
  runFolderReady(): void {
    if (this.writes) distributedStore.set(RUN_READY, 'ok');
  }
  /** Rank 0, when it fails before the folder is ready: the others end with its reason instead of waiting. */
  failed(error: unknown): void {
    if (!this.writes) return;
    try {
      distributedStore.set(RUN_READY, (error as Error)?.message ?? String(error));
    } catch {
      // The store is rank 0's own server: if it is gone, the others see a closed connection.
    }
  }
  /** Every rank has read (and rank 0 cached) the data: the first collective may start. */
  async waitForDataEverywhere(): Promise<void> {
    distributedStore.set(dataReady(this.rank), 'ok');
    for (let rank = 0; rank < this.world.worldSize; rank++) await distributedStore.get(dataReady(rank), prepareTimeoutMs());
  }

  trainLoader(dataset: PreparedDataset, options: LoaderOptions): ShardedTrainLoader {
    return new ShardedTrainLoader(dataset.subset('train'), options, this.shard);
  }

  wrap(model: AplNet, syncBatchNorm: boolean): DistributedDataParallel {
    return new DistributedDataParallel(model, this.shard, { syncBatchNorm });
  }

  /** Rank 0 runs every callback; the others only those that stop the loop, and all follow rank 0's decisions. */
  callbacks(rankZeroOnly: Callback[], everyRank: Callback[]): Callback[] {
    return [...(this.writes ? rankZeroOnly : []), ...everyRank, followRankZero(this.rank)];
  }

  /**
   * Rank 0 records the world in world.json and says what a change of world size on resume means:
   * the global batch and the sample order stay; each process's share and, without --sync-bn, the
   * images each batch norm sees change.
   */
  recordWorld(runDir: string, globalBatch: number, syncBatchNorm: boolean, position: LoopPosition, log: (line: string) => void): void {
    if (!this.writes) return;
    const record: WorldRecord = { worldSize: this.world.worldSize, globalBatch, perProcessBatch: perProcessBatch(globalBatch, this.world.worldSize), syncBatchNorm, backend: this.backend, fromStep: position.globalStep };
    noteWorldChange(runDir, record, log);
  }

  /** Leaves the world after a run that ended normally (after an error the process just exits). */
  leave(): void {
    destroyProcessGroup();
  }
}

/** Writes world.json for this world, logging how it differs from the world that trained the run so far. */
export function noteWorldChange(runDir: string, record: WorldRecord, log: (line: string) => void): void {
  const path = join(runDir, WORLD_FILE);
  const before = existsSync(path) ? readJson<WorldRecord>(path, 'world.json records the world size that trained the run') : null;
  if (before && record.fromStep > 0 && before.worldSize !== record.worldSize) {
    log(`this run was trained by ${before.worldSize} process(es) until step ${record.fromStep}; it continues with ${record.worldSize}: the global batch stays ${record.globalBatch} (now ${record.perProcessBatch} per process) and the sample order continues where it stopped; ${record.syncBatchNorm ? 'batch norm is synchronised, so its statistics are unchanged' : `each batch norm now sees ${record.perProcessBatch} images per step instead of ${before.perProcessBatch}`}`);
  }
  if (before && before.worldSize === record.worldSize && before.syncBatchNorm === record.syncBatchNorm) return;
  writeJsonAtomic(path, record);
}

/** A run that several processes trained, resumed by one: say what changes (one process's batch norm sees the whole global batch, as synchronised). */
export function noteSingleProcess(runDir: string, globalBatch: number, position: LoopPosition, log: (line: string) => void): void {
  if (!existsSync(join(runDir, WORLD_FILE))) return;
  noteWorldChange(runDir, { worldSize: 1, globalBatch, perProcessBatch: globalBatch, syncBatchNorm: true, backend: 'none', fromStep: position.globalStep }, log);
}
