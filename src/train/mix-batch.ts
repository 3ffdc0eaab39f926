// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) on a prepared batch, before it becomes a
// tensor: plain typed arrays, so it is cheap, testable without libtorch and reproducible from
// (seed, epoch, batch) alone, which keeps --resume exact.
import { randomFor, type Random } from '../data/index.js';

export interface MixSpec {
  /** Beta(α, α) for mixup; 0 = off. */
  mixup: number;
  /** Beta(α, α) for CutMix; 0 = off. */
  cutmix: number;
  /** Share of batches mixed when either is on. */
  probability: number;
}

/**
 * A mixed batch: image i is lambda·image i + (1 − lambda)·image (N − 1 − i) (mixup), or image i with
 * a box of its partner pasted in (CutMix, lambda = the share of image i left). The target of image i
 * is lambda·onehot(yA[i]) + (1 − lambda)·onehot(yB[i]); yB is y reversed. Pairing by reversal (as
 * timm does) needs no extra draws and pairs different images whenever N > 1 and i ≠ N − 1 − i.
 */
export interface MixedBatch {
  x: Float32Array;
  yA: Int32Array;
  yB: Int32Array;
  lambda: number;
  kind: 'mixup' | 'cutmix';
}

/** Tag that keeps the mixing stream apart from the loader's draws for the same (seed, epoch, batch). */
const MIX_STREAM = 0x6d1c;

export const mixingEnabled = (spec: MixSpec): boolean => spec.probability > 0 && (spec.mixup > 0 || spec.cutmix > 0);

/** The generator for one batch's mixing decision. */
export function mixRandom(seed: number, epoch: number, batchIndex: number): Random {
  return randomFor(seed, epoch, batchIndex, MIX_STREAM);
}

function standardNormal(random: Random): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang (2000), with the u^(1/shape) boost for shape < 1. */
export function sampleGamma(random: Random, shape: number): number {
  if (shape < 1) return sampleGamma(random, shape + 1) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Beta(α, α) as G1 / (G1 + G2). */
export function sampleSymmetricBeta(random: Random, alpha: number): number {
  const a = sampleGamma(random, alpha);
  const b = sampleGamma(random, alpha);
  return a + b > 0 ? a / (a + b) : 0.5;
}

/**
 * Mixes a normalised NCHW batch, or returns null when this batch stays unmixed (probability, or a
 * batch of one). Does not modify its inputs.
 */
export function mixBatch(x: Float32Array, shape: readonly [number, number, number, number], y: Int32Array, spec: MixSpec, random: Random): MixedBatch | null {
  const [n, channels, height, width] = shape;
  if (x.length !== n * channels * height * width || y.length !== n) throw new Error(`mixBatch: x has ${x.length} values and y ${y.length} labels for shape [${shape}]`);
  if (!mixingEnabled(spec) || n < 2) return null;
  // Every draw is made whatever is decided, so one choice never shifts the next one's numbers.
  const apply = random() < spec.probability;
  const pickCutmix = random() < 0.5;
  const kind: MixedBatch['kind'] = spec.mixup > 0 && spec.cutmix > 0 ? (pickCutmix ? 'cutmix' : 'mixup') : spec.cutmix > 0 ? 'cutmix' : 'mixup';
  const drawn = sampleSymmetricBeta(random, kind === 'cutmix' ? spec.cutmix : spec.mixup);
  const centreX = random() * width;
  const centreY = random() * height;
  if (!apply) return null;
  const yA = Int32Array.from(y);
  const yB = Int32Array.from({ length: n }, (_, i) => y[n - 1 - i]);
  const plane = height * width;
  const perImage = channels * plane;
  const out = new Float32Array(x.length);
  if (kind === 'mixup') {
    for (let i = 0; i < n; i++) {
      const a = i * perImage;
      const b = (n - 1 - i) * perImage;
      for (let k = 0; k < perImage; k++) out[a + k] = drawn * x[a + k] + (1 - drawn) * x[b + k];
    }
    return { x: out, yA, yB, lambda: drawn, kind };
  }
  // CutMix: a box of area (1 − λ)·H·W centred at a uniform point, clipped to the image; λ is then
  // recomputed from the clipped area so the targets match what the image shows.
  const cut = Math.sqrt(1 - drawn);
  const boxW = Math.round(width * cut);
  const boxH = Math.round(height * cut);
  const x0 = Math.max(0, Math.round(centreX - boxW / 2));
  const x1 = Math.min(width, Math.round(centreX + boxW / 2));
  const y0 = Math.max(0, Math.round(centreY - boxH / 2));
  const y1 = Math.min(height, Math.round(centreY + boxH / 2));
  out.set(x);
  for (let i = 0; i < n; i++) {
    const a = i * perImage;
    const b = (n - 1 - i) * perImage;
    for (let c = 0; c < channels; c++) {
      for (let row = y0; row < y1; row++) {
        const start = c * plane + row * width;
        out.set(x.subarray(b + start + x0, b + start + x1), a + start + x0);
      }
    }
  }
  const lambda = 1 - (Math.max(0, x1 - x0) * Math.max(0, y1 - y0)) / plane;
  return { x: out, yA, yB, lambda, kind };
}
