// Gradient-weighted attention: each attention map multiplied by the gradient of the target class
// score with respect to that map, positive part only — the weighting Chefer et al. (CVPR 2021,
// "Transformer Interpretability Beyond Attention Visualization") give attention maps.
//
// Why: a CBAM gate's polarity is not identifiable. The batch norms after it can undo any scale,
// so a trained module may open on the background and close on the cell (seen on PBC: the raw map
// was low on nuclei). Weighting by ∂score/∂map keeps the module's own spatial detail but shows
// where opening the gate raised the target's score, which is what a user asks of the map.
import type { AplNet } from '../model/index.js';
import { F, enableGrad, noGrad, stack, tensor, tidy, type Tensor } from '../torch/index.js';
import { inEvalMode, withFrozenParameters } from './model-modes.js';
import { normalizePerImage } from './normalize-map.js';
import { resolveTargets, type ExplainTarget } from './targets.js';

/** Attention maps and the target score's gradients w.r.t. them → one [N, 1, height, width] map in [0, 1] (mean over modules). */
export function weightedAttention(modules: { map: Tensor; grad: Tensor }[], size: [number, number]): Tensor {
  return tidy(() => {
    const upsampled = modules.map(({ map, grad }) => normalizePerImage(F.interpolateBilinear(map.mul(grad).relu(), size)));
    return normalizePerImage(stack(upsampled, 0).mean(0));
  });
}

/** images [N, C, H, W] → [N, 1, H, W] in [0, 1] for the given targets. */
export function attentionGradientExplanation(model: AplNet, images: Tensor, target: ExplainTarget, modules?: number[]): Tensor {
  const [n, , height, width] = images.shape;
  return inEvalMode(model, () => withFrozenParameters(model, () => tidy(() => {
    const weighted = enableGrad(() => {
      const input = images.detach().requiresGrad_(true);
      const out = model.forward(input);
      if (out.attention.length === 0) throw new Error("explain: method 'attention-grad' needs attention modules, but this model has none; use 'gradcam'");
      const chosen = modules ?? out.attention.map((_, i) => i);
      for (const i of chosen) out.attention[i].retainGrad();
      const classes = tensor(resolveTargets(out.logits, target), { dtype: 'int64' }).reshape([n, 1]);
      out.logits.gather(1, classes).sum().backward();
      return chosen.map((i) => ({ map: out.attention[i].detach(), grad: out.attention[i].grad! }));
    });
    return noGrad(() => weightedAttention(weighted, [height, width]));
  })));
}
