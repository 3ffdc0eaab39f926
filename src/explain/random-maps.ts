// The baseline that faithfulness scores are judged against: maps that know nothing of the image.
// They are smooth noise (uniform values on a coarse grid, upsampled bilinearly), not per-pixel
// noise, so they are as blobby as real attention maps and the comparison measures *where* a map
// points, not how smooth it is.
import { mulberry32 } from '../data/index.js';
import { F, fromTypedArray, tidy, type Tensor } from '../torch/index.js';

/** [count, 1, height, width] maps in [0, 1]; cellSize is the noise grid's spacing in pixels (default 1/8 of the side, like the attention map). */
export function randomMaps(count: number, height: number, width: number, { seed = 0, cellSize = Math.max(1, Math.round(Math.min(height, width) / 8)) }: { seed?: number; cellSize?: number } = {}): Tensor {
  const gridH = Math.ceil(height / cellSize);
  const gridW = Math.ceil(width / cellSize);
  const next = mulberry32(seed); // seeded, so the baseline is identical on every run
  const values = Float32Array.from({ length: count * gridH * gridW }, next);
  return tidy(() => F.interpolateBilinear(fromTypedArray(values, [count, 1, gridH, gridW]), [height, width]).clamp(0, 1));
}
