// The model's own spatial attention maps as an explanation (class-agnostic: the same for every target).
//
// Several modules are combined by the MEAN of their per-image normalized, upsampled maps, not the
// product: min-max scaling puts each map's minimum at exactly 0, so a product lets one coarse map
// veto whole regions the finer map attends to; the mean keeps the evidence of every scale and
// degrades gracefully when one module's map is nearly flat.
import type { AplNet } from '../model/index.js';
import { F, noGrad, stack, tidy, type Tensor } from '../torch/index.js';
import { inEvalMode } from './model-modes.js';
import { normalizePerImage } from './normalize-map.js';

/**
 * forward()'s attention maps → one [N, 1, height, width] map in [0, 1]. `modules` picks maps by
 * index (default: all). For prediction paths that already ran forward and want the map too.
 */
export function combineAttentionMaps(attention: Tensor[], height: number, width: number, modules?: number[]): Tensor {
  if (attention.length === 0) throw new Error("explain: method 'attention' needs attention modules, but this model has none (attention.stages is empty); use 'gradcam'");
  const chosen = modules ?? attention.map((_, i) => i);
  const bad = chosen.filter((i) => !Number.isInteger(i) || i < 0 || i >= attention.length);
  if (bad.length || chosen.length === 0) throw new Error(`explain: attention module index ${bad.join(', ') || '(none)'} out of range; this model has ${attention.length} (0..${attention.length - 1})`);
  return tidy(() => {
    const upsampled = chosen.map((i) => normalizePerImage(F.interpolateBilinear(attention[i], [height, width])));
    return normalizePerImage(stack(upsampled, 0).mean(0));
  });
}

/** images [N, C, H, W] → [N, 1, H, W] in [0, 1]. */
export function attentionExplanation(model: AplNet, images: Tensor, modules?: number[]): Tensor {
  const [, , height, width] = images.shape;
  return inEvalMode(model, () => noGrad(() => tidy(() => combineAttentionMaps(model.forward(images).attention, height, width, modules))));
}
