// One process of the ddp benchmark and of the equality test: `node ddp-worker.js STEPS BATCH SIZE
// THREADS OUT.safetensors [--local-bn] [--sgd] [--cells PREFIX] [--lr RATE] [--reversed] [--float64]` trains STEPS steps (see
// ddp-steps.ts; on the real cells ddp-data.ts wrote to PREFIX when given) alone, or as a rank when
// the torchrun environment is set, then prints its losses and timings as one JSON line and (alone
// or rank 0) saves the weights.
import { allReduce, destroyProcessGroup, initProcessGroup, setNumThreads, worldFromEnv, zeros } from '../src/torch/index.js';
import { trainSteps } from './ddp-steps.js';
import { readCells } from './ddp-data.js';

const [steps, batch, size, threads] = process.argv.slice(2, 6).map(Number);
const out = process.argv[6];
const syncBatchNorm = !process.argv.includes('--local-bn');
const valueOf = (flag: string): string | undefined => {
  const at = process.argv.indexOf(flag);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const cellsPrefix = valueOf('--cells');
const lr = valueOf('--lr');
setNumThreads(threads);
const world = worldFromEnv();
if (world) await initProcessGroup(world);
const shard = world ? { rank: world.rank, worldSize: world.worldSize } : null;
const result = trainSteps({ steps, globalBatch: batch, size, shard, syncBatchNorm, optimizer: process.argv.includes('--sgd') ? 'sgd' : 'adamw', cells: cellsPrefix ? readCells(cellsPrefix) : null, lr: lr === undefined ? undefined : Number(lr), reversed: process.argv.includes('--reversed'), float64: process.argv.includes('--float64') });
let allreduceMs = 0;
if (world) {
  // One step's gradient traffic on its own: every parameter's size, all-reduced as one buffer.
  const gradients = result.model.parameters().map((p) => zeros(p.shape));
  allReduce(gradients);
  const reps = 10;
  const started = performance.now();
  for (let i = 0; i < reps; i++) allReduce(gradients, 'avg');
  allreduceMs = (performance.now() - started) / reps;
  for (const g of gradients) g.dispose();
}
if (!world || world.rank === 0) result.model.save(out);
console.log(JSON.stringify({ rank: world?.rank ?? 0, losses: result.losses, msPerStep: result.msPerStep, cpuMsPerStep: result.cpuMsPerStep, collectiveMsPerStep: result.collectiveMsPerStep, allreduceMs }));
if (world) destroyProcessGroup();
