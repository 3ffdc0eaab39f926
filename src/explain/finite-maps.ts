// Fail closed on maps: a NaN or Inf in an image's map (from non-finite logits or gradients) must
// not reach a drawing, where it would read as a confident colour. Such a map becomes all zeros —
// shown as "nothing attended" — and the image is flagged, so the caller can say why it is blank.
import { tidy, where, zeros, type Tensor } from '../torch/index.js';

export interface FiniteMaps {
  /** The maps, with every image that held a NaN or Inf set to all zeros. */
  maps: Tensor;
  /** Per image: true where its map was not finite and was zeroed. */
  blanked: boolean[];
}

/** maps: [N, 1, H, W]. Returns them as they are when all finite, else a zeroed copy. */
export function zeroNonFiniteMaps(maps: Tensor): FiniteMaps {
  return tidy(() => {
    // |x| < ∞ is false for both NaN and ±Inf.
    const finite = maps.abs().lt(Infinity).to('float32').amin([1, 2, 3], true);
    const blanked = finite.toArray().map((v) => v === 0);
    if (!blanked.includes(true)) return { maps, blanked };
    return { maps: where(finite.gt(0), maps, zeros([1], { dtype: maps.dtype, device: maps.device })), blanked };
  });
}
