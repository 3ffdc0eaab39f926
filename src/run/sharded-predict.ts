// `aplnet predict` over many processes: the images are split across the ranks of the world the
// launcher describes (--nproc, torchrun, a PyTorchJob), each rank runs THE prediction core on its
// share, and rank 0 receives every result as the core returned it (probabilities, referral, OOD
// score, notes, pixels, maps, embeddings), in input order. Rank 0 then formats, summarises cases
// and writes exactly as one process does; the other ranks are done.
import { createHash } from 'node:crypto';
import { predictImages, type PredictOptions, type PredictResult } from './predict-images.js';
import type { LoadedRun } from './load-run.js';
import { allGatherBytes, allGatherValues, decodeValue, encodeValue } from './sharded-transfer.js';
import { joinInferenceWorld, roundsOf, type InferenceWorld } from './sharded-world.js';

/** Batches per rank in each round: a round's results reach rank 0 before the next round starts, and a straggler holds the others back by one batch at most. */
const BATCHES_PER_ROUND = 1;

/**
 * predictImages over the world when this process is one rank of one (WORLD_SIZE > 1), else in this
 * process. Returns every result in input order on rank 0 (or alone), and null on the other ranks.
 */
export async function predictImagesInWorld(run: LoadedRun, inputs: readonly string[], options: PredictOptions = {}): Promise<PredictResult[] | null> {
  const world = await joinInferenceWorld();
  if (!world) return predictImages(run, inputs, options);
  const results = await predictSharded(run, inputs, options, world);
  await world.leave();
  return results;
}

/** Every rank must be predicting the same list: a folder that changed while the ranks listed it would shard two different lists. */
function checkSameInputs(inputs: readonly string[], world: InferenceWorld): void {
  const digest = createHash('sha256').update(JSON.stringify(inputs)).digest('hex');
  const all = allGatherValues({ count: inputs.length, digest }, world.worldSize);
  const differing = all.flatMap((other, rank) => (other.digest === all[0].digest ? [] : [`rank ${rank} has ${other.count}`]));
  if (differing.length > 0) {
    throw new Error(`the ranks listed different images (rank 0 has ${all[0].count}, ${differing.join(', ')}): the inputs changed while they were listed, or the ranks do not see the same files; give every rank the same, unchanging inputs`);
  }
}

/** This rank's share, round by round; rank 0 collects every rank's results of each round in rank order. */
export async function predictSharded(run: LoadedRun, inputs: readonly string[], options: PredictOptions, world: InferenceWorld): Promise<PredictResult[] | null> {
  checkSameInputs(inputs, world);
  // Rounds one batch long: while its images are readable, every batch is the one a single process runs.
  const perRank = (options.batchSize ?? 32) * BATCHES_PER_ROUND;
  const results: PredictResult[] = [];
  for (const { start, end } of roundsOf(inputs.length, perRank, world.rank, world.worldSize)) {
    const mine = await predictImages(run, inputs.slice(start, end), options);
    const gathered = allGatherBytes(encodeValue(mine), world.worldSize);
    if (world.rank === 0) for (const bytes of gathered) results.push(...decodeValue<PredictResult[]>(bytes));
  }
  if (world.rank !== 0) return null;
  if (results.length !== inputs.length) throw new Error(`sharded predict: ${results.length} results came back for ${inputs.length} images; this is a bug, please report it`);
  return results;
}
