// Grad-CAM (Selvaraju et al., 2017) and Grad-CAM++ (Chattopadhay et al., 2018) on one named layer
// of the model, with the weighting formulas of pytorch-grad-cam.
import type { AplNet } from '../model/index.js';
import { F, tidy, type Tensor } from '../torch/index.js';
import { normalizePerImage } from './normalize-map.js';

export type GradCamVariant = 'gradcam' | 'gradcam++';

/** Grad-CAM: each channel weighted by its gradient averaged over space. */
function gradCamWeights(gradients: Tensor): Tensor {
  return gradients.mean([2, 3], true);
}

/** Grad-CAM++: positive gradients weighted per pixel by α = g² / (2g² + ΣA·g³), which credits every location of a channel that raises the score, not only the strongest. */
function gradCamPlusPlusWeights(activations: Tensor, gradients: Tensor): Tensor {
  const g2 = gradients.mul(gradients);
  const g3 = g2.mul(gradients);
  const sumActivations = activations.sum([2, 3], true);
  const alpha = g2.div(g2.mul(2).add(sumActivations.mul(g3)).add(1e-7)).mul(gradients.ne(0).to('float32'));
  return gradients.relu().mul(alpha).sum([2, 3], true);
}

/** A layer's activations and the target score's gradients → [N, 1, height, width] map in [0, 1]. */
export function camFromGradients(activations: Tensor, gradients: Tensor, variant: GradCamVariant, size: [number, number]): Tensor {
  return tidy(() => {
    const weights = variant === 'gradcam' ? gradCamWeights(gradients) : gradCamPlusPlusWeights(activations, gradients);
    const cam = activations.mul(weights).sum(1, true).relu();
    return normalizePerImage(F.interpolateBilinear(cam, size));
  });
}

/** The Grad-CAM layer: the one named, or by default the deepest stage, as in the Grad-CAM paper. */
export function chooseGradCamLayer(model: AplNet, layer?: string): string {
  const names = model.activationNames();
  const chosen = layer ?? names[names.length - 1];
  if (!names.includes(chosen)) throw new Error(`explain: unknown layer "${chosen}"; choose from ${names.join(', ')}`);
  return chosen;
}
