import { intensityFromOpticalDensity, opticalDensity } from './optical-density.js';
import { percentile } from './percentile.js';
import { symmetricEigen } from './symmetric-eigen.js';

/**
 * Macenko et al. 2009: the two stain vectors (haematoxylin, eosin) of an image are the extreme
 * directions of its stained pixels' optical densities within their principal plane. Normalising
 * re-expresses each image's stain amounts in the reference stain vectors and intensity range.
 */
export interface MacenkoParams {
  method: 'macenko';
  /** Rows: haematoxylin then eosin, unit vectors in OD-RGB. */
  stainVectors: [[number, number, number], [number, number, number]];
  /** 99th percentile of each stain's concentration in the reference. */
  maxConcentrations: [number, number];
}

/** Pixels with OD below this in any channel are background (glass, plasma) and carry no stain direction. */
const backgroundOd = 0.15;
/** Percentile of the angle range taken as the extreme directions; robust to outliers. */
const anglePercentile = 1;
const minStainedPixels = 50;

interface StainEstimate {
  stainVectors: MacenkoParams['stainVectors'];
  maxConcentrations: [number, number];
}

function opticalDensities(pixels: Uint8Array): Float64Array {
  const od = new Float64Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) od[i] = opticalDensity(pixels[i]);
  return od;
}

function stainedPixels(od: Float64Array): Float64Array {
  const kept = new Float64Array(od.length);
  let count = 0;
  for (let i = 0; i < od.length; i += 3) {
    if (od[i] > backgroundOd && od[i + 1] > backgroundOd && od[i + 2] > backgroundOd) {
      kept[count++] = od[i];
      kept[count++] = od[i + 1];
      kept[count++] = od[i + 2];
    }
  }
  return kept.subarray(0, count);
}

/** Least-squares concentrations of the two stains for every pixel: pinv(V) · od. */
function concentrations(od: Float64Array, vectors: MacenkoParams['stainVectors']): [Float64Array, Float64Array] {
  const [h, e] = vectors;
  const hh = h[0] * h[0] + h[1] * h[1] + h[2] * h[2];
  const ee = e[0] * e[0] + e[1] * e[1] + e[2] * e[2];
  const he = h[0] * e[0] + h[1] * e[1] + h[2] * e[2];
  const det = hh * ee - he * he;
  const count = od.length / 3;
  const ch = new Float64Array(count);
  const ce = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const dh = h[0] * od[3 * i] + h[1] * od[3 * i + 1] + h[2] * od[3 * i + 2];
    const de = e[0] * od[3 * i] + e[1] * od[3 * i + 1] + e[2] * od[3 * i + 2];
    ch[i] = (ee * dh - he * de) / det;
    ce[i] = (hh * de - he * dh) / det;
  }
  return [ch, ce];
}

/** Estimates stain vectors and concentration range from OD triplets; undefined when too few pixels are stained. */
function estimateStains(allOd: Float64Array): StainEstimate | undefined {
  const od = stainedPixels(allOd);
  const count = od.length / 3;
  if (count < minStainedPixels) return undefined;
  const mean = [0, 0, 0];
  for (let i = 0; i < count; i++) for (let c = 0; c < 3; c++) mean[c] += od[3 * i + c] / count;
  const covariance = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < count; i++) {
    for (let r = 0; r < 3; r++) {
      for (let c = r; c < 3; c++) covariance[r][c] += ((od[3 * i + r] - mean[r]) * (od[3 * i + c] - mean[c])) / count;
    }
  }
  for (let r = 0; r < 3; r++) for (let c = 0; c < r; c++) covariance[r][c] = covariance[c][r];
  const { vectors } = symmetricEigen(covariance);
  // The principal plane, with axes oriented so stained pixels project positively.
  const axes = [0, 1].map((column) => {
    const axis = [vectors[0][column], vectors[1][column], vectors[2][column]];
    return axis[0] + axis[1] + axis[2] < 0 ? axis.map((value) => -value) : axis;
  });
  const angles = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const x = axes[0][0] * od[3 * i] + axes[0][1] * od[3 * i + 1] + axes[0][2] * od[3 * i + 2];
    const y = axes[1][0] * od[3 * i] + axes[1][1] * od[3 * i + 1] + axes[1][2] * od[3 * i + 2];
    angles[i] = Math.atan2(y, x);
  }
  const direction = (angle: number): [number, number, number] => {
    const v = [0, 1, 2].map((c) => axes[0][c] * Math.cos(angle) + axes[1][c] * Math.sin(angle));
    const length = Math.hypot(...v);
    return [v[0] / length, v[1] / length, v[2] / length];
  };
  const low = direction(percentile(angles, anglePercentile));
  const high = direction(percentile(angles, 100 - anglePercentile));
  // Haematoxylin absorbs more red than eosin does, so it is the vector with the larger red OD.
  const stainVectors: MacenkoParams['stainVectors'] = low[0] > high[0] ? [low, high] : [high, low];
  const [ch, ce] = concentrations(allOd, stainVectors);
  return { stainVectors, maxConcentrations: [percentile(ch, 99), percentile(ce, 99)] };
}

/** Fits the reference on the pooled pixels of training images (the caller bounds how many). */
export function fitMacenko(images: Uint8Array[]): MacenkoParams {
  const total = images.reduce((sum, pixels) => sum + pixels.length, 0);
  const pooled = new Uint8Array(total);
  let offset = 0;
  for (const pixels of images) {
    pooled.set(pixels, offset);
    offset += pixels.length;
  }
  const estimate = estimateStains(opticalDensities(pooled));
  if (!estimate) throw new Error('Macenko: the training images have too few stained pixels to estimate stain vectors');
  return { method: 'macenko', ...estimate };
}

/** Images with too few stained pixels (blank fields) are returned unchanged: there is no stain to normalise. */
export function applyMacenko(params: MacenkoParams, pixels: Uint8Array): Uint8Array {
  const od = opticalDensities(pixels);
  const source = estimateStains(od);
  if (!source) return pixels.slice();
  const [ch, ce] = concentrations(od, source.stainVectors);
  const scaleH = params.maxConcentrations[0] / Math.max(source.maxConcentrations[0], 1e-6);
  const scaleE = params.maxConcentrations[1] / Math.max(source.maxConcentrations[1], 1e-6);
  const [h, e] = params.stainVectors;
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < ch.length; i++) {
    const a = ch[i] * scaleH;
    const b = ce[i] * scaleE;
    for (let c = 0; c < 3; c++) out[3 * i + c] = intensityFromOpticalDensity(a * h[c] + b * e[c]);
  }
  return out;
}
