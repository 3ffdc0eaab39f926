// The baseline that faithfulness scores are judged against: maps that know nothing of the image.
// They are smooth noise (uniform values on a coarse grid, upsampled bilinearly), not per-pixel
// noise, so they are as blobby as real attention maps and the comparison measures *where* a map
// points, not how smooth it is.
import { F, fromTypedArray, tidy, type Tensor } from '../torch/index.js';

/** mulberry32: a tiny seeded generator, so the baseline is identical on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** [count, 1, height, width] maps in [0, 1]; cellSize is the noise grid's spacing in pixels (default 1/8 of the side, like the attention map). */
export function randomMaps(count: number, height: number, width: number, { seed = 0, cellSize = Math.max(1, Math.round(Math.min(height, width) / 8)) }: { seed?: number; cellSize?: number } = {}): Tensor {
  const gridH = Math.ceil(height / cellSize);
  const gridW = Math.ceil(width / cellSize);
  const next = seededRandom(seed);
  const values = Float32Array.from({ length: count * gridH * gridW }, next);
  return tidy(() => F.interpolateBilinear(fromTypedArray(values, [count, 1, gridH, gridW]), [height, width]).clamp(0, 1));
}
