// The model-randomisation sanity check (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS
// 2018): a map that barely changes when the trained weights are replaced by random ones shows the
// architecture or the image, not what the model learned. The figure is Spearman's rank correlation
// between the two models' maps of each image: near 0 passes, near 1 fails.
import { createModel, type AplNet } from '../../model/index.js';
import { init } from '../../nn/index.js';
import { getCpuRngState, manualSeed, noGrad, setCpuRngState } from '../../torch/index.js';
import { spearmanCorrelation } from './map-measures.js';

/**
 * The same architecture, freshly initialised from `seed`, on the model's device and in eval mode.
 * The global random generator is restored afterwards, so asking for it changes nothing else.
 */
export function reinitializedModel(model: AplNet, seed = 1): AplNet {
  const state = getCpuRngState();
  try {
    manualSeed(seed);
    const device = model.parameters()[0]?.device ?? 'cpu';
    const twin = createModel(model.config);
    // An attention-pooling head starts at zero (plain average pooling), so its fresh map would be
    // uniform and correlate 0 with anything: the check would pass without testing anything. Random
    // weights there too, as for every other convolution, make the twin's map depend on the image.
    noGrad(() => {
      for (const [name, weight] of twin.namedParameters()) if (name === 'pool.score.weight') init.kaimingNormal_(weight);
    });
    return twin.to(device).eval();
  } finally {
    setCpuRngState(state);
    state.dispose();
  }
}

/** Per image, Spearman's rho between two [N·pixels] stacks of maps laid out image after image. */
export function mapRankCorrelations(trained: Float32Array, randomized: Float32Array, images: number): number[] {
  if (trained.length !== randomized.length || trained.length % images !== 0) {
    throw new Error(`mapRankCorrelations: ${trained.length} and ${randomized.length} values do not split into ${images} maps of one size`);
  }
  const pixels = trained.length / images;
  return Array.from({ length: images }, (_, i) => spearmanCorrelation(trained.subarray(i * pixels, (i + 1) * pixels), randomized.subarray(i * pixels, (i + 1) * pixels)));
}
