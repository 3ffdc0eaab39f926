// The world a sharded predict or evaluate runs in: the torchrun environment (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK), set by `--nproc`, torchrun, SLURM or a PyTorchJob, as
// for training. What ranks exchange here is host data (results, logits), so the group is Gloo even
// when the model runs on a GPU; each rank's model stays on its own device.
import { barrier, destroyProcessGroup, initProcessGroup, isDistributedInitialized, worldFromEnv, type WorldEnv } from '../torch/index.js';

export interface InferenceWorld {
  rank: number;
  worldSize: number;
  /**
   * Leaves the group after this rank's last collective: waits for every rank first, so no rank
   * closes its connections while a peer still reads from them. Not after a failure (the process
   * just exits, and the others see it).
   */
  leave(): Promise<void>;
}

/** Joins the world the environment describes, or null when this process runs alone (WORLD_SIZE unset or 1). */
export async function joinInferenceWorld(env: NodeJS.ProcessEnv = process.env): Promise<InferenceWorld | null> {
  const world: WorldEnv | null = worldFromEnv(env);
  if (!world) return null;
  if (!isDistributedInitialized()) await initProcessGroup({ ...world, backend: 'gloo' });
  let left = false;
  return {
    rank: world.rank,
    worldSize: world.worldSize,
    async leave() {
      if (left) return;
      left = true;
      await barrier();
      destroyProcessGroup();
    },
  };
}

/** The device a rank's model runs on: a plain "cuda" becomes this rank's own GPU, cuda:LOCAL_RANK, as torchrun users expect. */
export function deviceOfRank(device: string, env: NodeJS.ProcessEnv = process.env): string {
  const world = worldFromEnv(env);
  return world && device === 'cuda' ? `cuda:${world.localRank}` : device;
}

/**
 * Sharding in rounds: round r covers items [r·W·R, (r+1)·W·R) and gives rank k its k-th block of
 * up to R of them. The blocks of a round, gathered in rank order, are that part of the input in
 * order, and gathering after every round keeps each collective's wait short (no rank is ever more
 * than one round ahead) and each rank's share of the results in memory small.
 */
export function roundsOf(n: number, perRank: number, rank: number, worldSize: number): { round: number; start: number; end: number }[] {
  if (!Number.isInteger(perRank) || perRank < 1) throw new Error(`roundsOf: perRank must be a positive integer, got ${perRank}`);
  const span = perRank * worldSize;
  const rounds = Math.ceil(n / span);
  return Array.from({ length: rounds }, (_, round) => {
    const start = Math.min(n, round * span + rank * perRank);
    return { round, start, end: Math.min(n, start + perRank) };
  });
}
