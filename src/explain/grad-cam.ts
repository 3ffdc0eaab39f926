// Grad-CAM (Selvaraju et al., 2017) and Grad-CAM++ (Chattopadhay et al., 2018) on one named layer
// of the model, with the weighting formulas of pytorch-grad-cam.
import type { AplNet } from '../model/index.js';
import { F, enableGrad, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { inEvalMode, withFrozenParameters } from './model-modes.js';
import { normalizePerImage } from './normalize-map.js';
import { resolveTargets, type ExplainTarget } from './targets.js';

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

/** images [N, C, H, W] → [N, 1, H, W] in [0, 1] for the given targets; layer: a name from model.activationNames(). */
export function gradCamExplanation(model: AplNet, images: Tensor, { variant, target, layer }: { variant: GradCamVariant; target: ExplainTarget; layer: string }): Tensor {
  const [n, , height, width] = images.shape;
  return inEvalMode(model, () => withFrozenParameters(model, () => tidy(() => {
    const { activations, gradients } = enableGrad(() => {
      // With the parameters frozen, the input carries requiresGrad so the graph reaches the layer.
      const input = images.detach().requiresGrad_(true);
      const out = model.forward(input, { keepActivations: [layer] });
      const classes = tensor(resolveTargets(out.logits, target), { dtype: 'int64' }).reshape([n, 1]);
      // Images are independent in eval mode, so one backward of the summed scores gives each its own gradient.
      out.logits.gather(1, classes).sum().backward();
      const kept = out.activations[layer];
      return { activations: kept.detach(), gradients: kept.grad! };
    });
    return noGrad(() => camFromGradients(activations, gradients, variant, [height, width]));
  })));
}
