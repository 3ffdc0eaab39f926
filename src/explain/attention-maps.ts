// The model's own spatial attention maps as an explanation (class-agnostic: the same for every target).
//
// Several modules are combined by the MEAN of their per-image normalized, upsampled maps, not the
// product: min-max scaling puts each map's minimum at exactly 0, so a product lets one coarse map
// veto whole regions the finer map attends to; the mean keeps the evidence of every scale and
// degrades gracefully when one module's map is nearly flat.
import { F, stack, tidy, type Tensor } from '../torch/index.js';
import { normalizePerImage } from './normalize-map.js';

/**
 * The attention modules a method reads, by index into forward().attention (default all), checked
 * against the `available` ones so a wrong index or a model without attention is named, not a crash.
 */
export function chooseAttentionModules(available: number, method: 'attention' | 'attention-grad', modules?: readonly number[]): number[] {
  if (available === 0) throw new Error(`explain: method '${method}' needs attention modules, but this model has none (attention.stages is empty); use 'gradcam'`);
  const chosen = modules ? [...modules] : Array.from({ length: available }, (_, i) => i);
  const bad = chosen.filter((i) => !Number.isInteger(i) || i < 0 || i >= available);
  if (bad.length || chosen.length === 0) throw new Error(`explain: attention module index ${bad.join(', ') || '(none)'} out of range; this model has ${available} (0..${available - 1})`);
  return chosen;
}

/** forward()'s attention maps → one [N, 1, height, width] map in [0, 1]. `modules` picks maps by index (default: all). */
export function combineAttentionMaps(attention: Tensor[], height: number, width: number, modules?: readonly number[]): Tensor {
  const chosen = chooseAttentionModules(attention.length, 'attention', modules);
  return tidy(() => {
    const upsampled = chosen.map((i) => normalizePerImage(F.interpolateBilinear(attention[i], [height, width])));
    return normalizePerImage(stack(upsampled, 0).mean(0));
  });
}
