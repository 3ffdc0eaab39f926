// Faithfulness of explanation maps, measured (Petsiuk et al., RISE, 2018): deletion replaces the
// top-ranked pixels with a blurred version step by step and records the target-class probability;
// a faithful map makes it fall fast (low AUC). Insertion starts from the blurred image and restores
// the top-ranked pixels first; a faithful map makes it rise fast (high AUC).
import type { AplNet } from '../model/index.js';
import { fromTypedArray, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import { trapezoidAuc } from './auc.js';
import { blurImages } from './blur.js';
import { inEvalMode } from './model-modes.js';

export type FaithfulnessMode = 'deletion' | 'insertion';

export interface FaithfulnessOptions {
  /** Number of steps from 0% to 100% of the pixels (the curve has steps + 1 points). */
  steps?: number;
  /** Images per forward pass. */
  batchSize?: number;
}

export interface FaithfulnessCurve {
  mode: FaithfulnessMode;
  /** Fraction of pixels removed (deletion) or restored (insertion) at each point. */
  fractions: number[];
  /** Target-class probability, [image][point]. */
  probabilities: number[][];
  /** Per-image area under the curve. */
  auc: number[];
  /** The mean of auc: the figure to compare between methods. */
  meanAuc: number;
}

/** For each image, every pixel's rank by decreasing map value (0 = most attended); ties keep pixel order. */
function pixelRanks(maps: Tensor): Int32Array[] {
  const [n, , height, width] = maps.shape;
  const pixels = height * width;
  const values = maps.to('float32');
  const all = values.data<'float32'>();
  values.dispose();
  return Array.from({ length: n }, (_, i) => {
    const map = all.subarray(i * pixels, (i + 1) * pixels);
    const order = Array.from({ length: pixels }, (_, p) => p).sort((a, b) => map[b] - map[a] || a - b);
    const ranks = new Int32Array(pixels);
    order.forEach((pixel, rank) => { ranks[pixel] = rank; });
    return ranks;
  });
}

/** 1 where a pixel is among the first `count` by rank, for images first..first+ranks.length-1. */
function topPixelMask(ranks: Int32Array[], count: number, height: number, width: number): Tensor {
  const pixels = height * width;
  const mask = new Float32Array(ranks.length * pixels);
  ranks.forEach((r, i) => { for (let p = 0; p < pixels; p++) if (r[p] < count) mask[i * pixels + p] = 1; });
  return fromTypedArray(mask, [ranks.length, 1, height, width]);
}

/**
 * images: the model's input [N, C, H, W]; maps: [N, 1, H, W] (any range, only the order matters);
 * targets: the class whose probability is tracked, per image.
 */
export function faithfulnessCurve(model: AplNet, images: Tensor, maps: Tensor, targets: number[], mode: FaithfulnessMode, { steps = 20, batchSize = 32 }: FaithfulnessOptions = {}): FaithfulnessCurve {
  const [n, , height, width] = images.shape;
  const [mn, mc, mh, mw] = maps.shape;
  if (mn !== n || mc !== 1 || mh !== height || mw !== width) throw new Error(`faithfulness: maps [${maps.shape}] do not match images [${images.shape}]: need [${n}, 1, ${height}, ${width}]`);
  if (targets.length !== n) throw new Error(`faithfulness: ${targets.length} targets for ${n} images`);
  if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`faithfulness: steps must be a positive integer, got ${steps}`);
  const ranks = pixelRanks(maps);
  const fractions = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  const probabilities = Array.from({ length: n }, () => new Array<number>(steps + 1));
  inEvalMode(model, () => noGrad(() => {
    for (let first = 0; first < n; first += batchSize) {
      const last = Math.min(n, first + batchSize);
      tidy(() => {
        const original = images.slice(0, first, last);
        const blurred = blurImages(original);
        const [start, end] = mode === 'deletion' ? [original, blurred] : [blurred, original];
        const classes = tensor(targets.slice(first, last), { dtype: 'int64' }).reshape([last - first, 1]);
        fractions.forEach((fraction, k) => tidy(() => {
          const mask = topPixelMask(ranks.slice(first, last), Math.round(fraction * height * width), height, width);
          const mixed = start.mul(mask.rsub(1)).add(end.mul(mask));
          const p = model.forward(mixed).logits.softmax(1).gather(1, classes).toArray();
          p.forEach((value, j) => { probabilities[first + j][k] = value; });
        }));
      });
    }
  }));
  const auc = probabilities.map((curve) => trapezoidAuc(fractions, curve));
  return { mode, fractions, probabilities, auc, meanAuc: auc.reduce((a, b) => a + b, 0) / n };
}

export const deletionCurve = (model: AplNet, images: Tensor, maps: Tensor, targets: number[], options?: FaithfulnessOptions): FaithfulnessCurve =>
  faithfulnessCurve(model, images, maps, targets, 'deletion', options);
export const insertionCurve = (model: AplNet, images: Tensor, maps: Tensor, targets: number[], options?: FaithfulnessOptions): FaithfulnessCurve =>
  faithfulnessCurve(model, images, maps, targets, 'insertion', options);
