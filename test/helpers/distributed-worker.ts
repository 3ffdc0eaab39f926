// One rank of the distributed tests: joins the world from the torchrun environment, runs the
// scenario named by argv[2], and prints one JSON line of results on stdout.
import { mlp } from './distributed-mlp.js';
import { GradientReducer, allGather, allGatherObject, allReduce, allReduceSumWithGrad, barrier, broadcast, destroyProcessGroup, distributedStore, getRank, getWorldSize, initProcessGroup, manualSeed, randn, setNumThreads, tensor, worldFromEnv } from '../../src/torch/index.js';

const scenario = process.argv[2];
setNumThreads(1);

async function collectives(): Promise<unknown> {
  const rank = getRank();
  const a = tensor([rank + 1, 10 * (rank + 1)]);
  const b = tensor([[rank], [2 * rank]]);
  allReduce([a, b], 'sum');
  const avg = tensor([rank + 1]);
  allReduce(avg, 'avg');
  const max = tensor([rank * 3]);
  allReduce(max, 'max');
  const fromOne = tensor([rank + 5, rank + 7]);
  broadcast(fromOne, 1);
  const gathered = allGather(tensor([rank, rank + 0.5]));
  const objects = allGatherObject({ rank, note: 'é'.repeat(rank + 1) });
  if (rank === 0) distributedStore.set('aplnet-test/greeting', 'from rank 0');
  const greeting = await distributedStore.get('aplnet-test/greeting', 10_000);
  await barrier();
  // y = sum over ranks of x; loss_r = sum(y * y); d loss_total / d x_r = sum_q 2 y = 2 * world * y.
  const x = tensor([rank + 1, 2], { requiresGrad: true });
  const y = allReduceSumWithGrad(x);
  y.mul(y).sum().backward();
  return {
    rank, world: getWorldSize(), sum: [...a.data<'float32'>(), ...b.data<'float32'>()], avg: avg.item(), max: max.item(), broadcast: Array.from(fromOne.data<'float32'>()),
    gathered: { shape: gathered.shape, values: Array.from(gathered.data<'float32'>()) }, objects, greeting, y: Array.from(y.data<'float32'>()), grad: Array.from(x.grad!.data<'float32'>()),
  };
}

// Three steps of the three-layer net on this rank's half of the batch, gradients averaged by the Reducer.
async function reducer(): Promise<unknown> {
  const { x, target, params, loss } = mlp();
  const rank = getRank();
  const rows = 8 / getWorldSize();
  const reducer = new GradientReducer(params, { bucketCapMb: 0.5 });
  const grads: number[][] = [];
  for (let step = 0; step < 3; step++) {
    for (const p of params) p.zeroGrad();
    reducer.prepareForward();
    const value = loss(x.slice(0, rank * rows, (rank + 1) * rows), target.slice(0, rank * rows, (rank + 1) * rows));
    reducer.prepareBackward();
    value.backward();
    grads.push(params.flatMap((p) => Array.from(p.grad!.data<'float32'>())));
  }
  const buckets = reducer.bucketBytes();
  reducer.detach();
  return { rank, grads, buckets };
}

const world = worldFromEnv();
if (!world) throw new Error('distributed-worker needs the torchrun environment');
try {
  await initProcessGroup(world);
  if (scenario === 'die-in-allreduce' && world.rank === 1) process.exit(7);
  if (scenario === 'die-in-allreduce') {
    const started = performance.now();
    try {
      allReduce(tensor([1]), 'sum');
      console.log(JSON.stringify({ rank: world.rank, survived: true }));
    } catch (err) {
      console.log(JSON.stringify({ rank: world.rank, error: (err as Error).message, ms: performance.now() - started }));
    }
    process.exit(0);
  }
  const result = scenario === 'collectives' ? await collectives() : scenario === 'reducer' ? await reducer() : null;
  if (result === null) throw new Error(`unknown scenario ${scenario}`);
  destroyProcessGroup();
  console.log(JSON.stringify(result));
} catch (err) {
  console.log(JSON.stringify({ rank: world.rank, error: (err as Error).message }));
  process.exit(1);
}


