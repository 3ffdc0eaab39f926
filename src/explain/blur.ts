// The "removed" version of an image for deletion/insertion curves: a strong blur rather than a
// constant, so removing pixels takes away detail without adding sharp artificial edges that a
// CNN would react to (Petsiuk et al., RISE, 2018, do the same).
import { F, tidy, type Tensor } from '../torch/index.js';

const BOX_PASSES = 3; // three box blurs approximate a Gaussian (central limit), with ops the engine has

/** images [N, C, H, W] → blurred copy; kernel about 1/12 of the shorter side (σ ≈ 6.5 px at 144 px). */
export function blurImages(images: Tensor): Tensor {
  const [, , height, width] = images.shape;
  const kernel = 2 * Math.max(1, Math.round(Math.min(height, width) / 24)) + 1;
  return tidy(() => {
    let out = images;
    for (let pass = 0; pass < BOX_PASSES; pass++) {
      // countIncludePad false: borders average only real pixels, so edges don't darken.
      out = F.avgPool2d(out, kernel, { stride: 1, padding: Math.floor(kernel / 2), countIncludePad: false });
    }
    return out;
  });
}
