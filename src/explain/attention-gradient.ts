// Gradient-weighted attention: each attention map multiplied by the gradient of the target class
// score with respect to that map, positive part only — the weighting Chefer et al. (CVPR 2021,
// "Transformer Interpretability Beyond Attention Visualization") give attention maps.
//
// Why: a CBAM gate's polarity is not identifiable. The batch norms after it can undo any scale,
// so a trained module may open on the background and close on the cell (seen on PBC: the raw map
// was low on nuclei). Weighting by ∂score/∂map keeps the module's own spatial detail but shows
// where opening the gate raised the target's score, which is what a user asks of the map.
import { F, stack, tidy, type Tensor } from '../torch/index.js';
import { chooseAttentionModules } from './attention-maps.js';
import type { CapturedPass } from './capture.js';
import { normalizePerImage } from './normalize-map.js';

/** A captured pass with attention gradients → one [N, 1, height, width] map in [0, 1] (mean over the chosen modules). */
export function weightedAttention(pass: CapturedPass, size: [number, number], modules?: readonly number[]): Tensor {
  const chosen = chooseAttentionModules(pass.attention.length, 'attention-grad', modules);
  return tidy(() => {
    const upsampled = chosen.map((i) => normalizePerImage(F.interpolateBilinear(pass.attention[i].mul(pass.attentionGradients[i]).relu(), size)));
    return normalizePerImage(stack(upsampled, 0).mean(0));
  });
}
