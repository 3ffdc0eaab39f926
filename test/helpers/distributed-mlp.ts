// The three-layer net of the Reducer test, built the same way in the test and in each rank.
import { F, manualSeed, randn, type Tensor } from '../../src/torch/index.js';

// A three-layer net trained three steps on this rank's half of a fixed batch, its gradients averaged
// by the Reducer; the test compares them with one process's gradients over the whole batch. Its
// 1.4 MB layers fill DDP's first bucket (1 MB) before the last gradient arrives: several buckets.
export function mlp(): { x: Tensor; target: Tensor; params: Tensor[]; loss: (x: Tensor, target: Tensor) => Tensor } {
  manualSeed(7);
  const x = randn([8, 600]);
  const target = randn([8, 3]);
  const params = [randn([600, 600]).mul(0.04), randn([600]), randn([600, 600]).mul(0.04), randn([600]), randn([3, 600]).mul(0.04), randn([3])];
  for (const p of params) p.requiresGrad = true;
  const [w1, b1, w2, b2, w3, b3] = params;
  const loss = (input: Tensor, goal: Tensor) => F.linear(F.linear(F.linear(input, w1, b1).relu(), w2, b2).relu(), w3, b3).sub(goal).pow(2).mean();
  return { x, target, params, loss };
}

