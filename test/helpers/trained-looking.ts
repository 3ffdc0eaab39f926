// A freshly built network is a poor subject for tests of its maps: its residual branches start at
// zero and an attention-pooling head starts uniform, so every image gives a near-flat map (and
// embeddings ~1e-16). These helpers give it trained-looking values, and measure a map's flatness.
import type { AplNet } from '../../src/model/index.js';
import { noGrad, rand, randn, tidy, type Tensor } from '../../src/torch/index.js';

/** The pooling scorer, batch-norm statistics and affine weights set to trained-looking random values (in place). */
export function withTrainedLookingWeights<M extends AplNet>(model: M): M {
  noGrad(() => tidy(() => {
    for (const [key, t] of model.stateDict()) {
      if (key === 'pool.score.weight') t.copy_(randn(t.shape).mul(3));
      else if (key.endsWith('running_mean') || (key.endsWith('.bias') && t.ndim === 1)) t.copy_(randn(t.shape).mul(0.1));
      else if (key.endsWith('running_var') || (key.endsWith('.weight') && t.ndim === 1)) t.copy_(rand(t.shape).add(0.5));
    }
  }));
  return model;
}

/** Coefficient of variation (std / mean) of each image's map [N, 1, h, w]. */
export function coefficientsOfVariation(maps: Tensor): number[] {
  return tidy(() => {
    const mean = maps.mean([1, 2, 3]);
    const std = maps.sub(maps.mean([1, 2, 3], true)).pow(2).mean([1, 2, 3]).sqrt();
    return std.div(mean).toArray();
  });
}
