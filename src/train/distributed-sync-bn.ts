// Synchronised batch norm (torch.nn.SyncBatchNorm's arithmetic): in training, each BatchNorm2d
// normalises with the mean and variance of the whole global batch, summed over ranks by a
// differentiable all-reduce, so W processes × B images compute what one process computes on W·B.
// Two passes (sum, then the sum of squared deviations) keep the variance as exact as one process's.
import { BatchNorm2d, type Module } from '../nn/index.js';
import { allReduceSumWithGrad, cat, full, noGrad, type Tensor } from '../torch/index.js';

function syncedForward(bn: BatchNorm2d, x: Tensor): Tensor {
  const state = bn.stateDict();
  const runningMean = state.get('running_mean')!;
  const runningVar = state.get('running_var')!;
  const counter = state.get('num_batches_tracked')!;
  const [n, c, h, w] = x.shape;
  const momentum = bn.options.momentum ?? 0.1;
  const eps = bn.options.eps ?? 1e-5;
  const local = full([1], n * h * w, { device: x.device });
  const sums = allReduceSumWithGrad(cat([x.sum([0, 2, 3]), local], 0));
  const count = sums.slice(0, c, c + 1);
  const mean = sums.slice(0, 0, c).div(count);
  const centered = x.sub(mean.reshape([1, c, 1, 1]));
  const variance = allReduceSumWithGrad(centered.mul(centered).sum([0, 2, 3])).div(count);
  const total = count.item();
  noGrad(() => {
    runningMean.copy_(runningMean.mul(1 - momentum).add(mean.mul(momentum)));
    runningVar.copy_(runningVar.mul(1 - momentum).add(variance.mul((momentum * total) / Math.max(1, total - 1))));
    counter.copy_(counter.add(1));
  });
  const scale = bn.weight.div(variance.add(eps).sqrt()).reshape([1, c, 1, 1]);
  return centered.mul(scale).add(bn.bias.reshape([1, c, 1, 1]));
}

/** Makes every BatchNorm2d of `model` synchronise its training statistics over the process group; returns how many. */
export function useSyncBatchNorm(model: Module): number {
  let count = 0;
  for (const [, module] of model.namedModules()) {
    if (!(module instanceof BatchNorm2d)) continue;
    const perProcess = module.forward.bind(module);
    module.forward = (x: Tensor) => (module.training ? syncedForward(module, x) : perProcess(x));
    count += 1;
  }
  return count;
}
