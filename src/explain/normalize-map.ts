// Per-image min-max scaling to [0, 1]: explanation maps are compared and drawn by their shape, not
// their raw scale (which differs between methods, layers and images). A constant map becomes all 0.
import { tidy, type Tensor } from '../torch/index.js';

/** maps: [N, 1, H, W] → the same shape, each image scaled to span [0, 1]. */
export function normalizePerImage(maps: Tensor): Tensor {
  return tidy(() => {
    const low = maps.amin([1, 2, 3], true);
    const range = maps.amax([1, 2, 3], true).sub(low);
    return maps.sub(low).div(range.clamp(1e-12));
  });
}
