import { labToRgb, rgbToLab } from './lab-color.js';

/** Target colour statistics in CIELAB: per-channel mean and standard deviation. */
export interface ReinhardParams {
  method: 'reinhard';
  mean: [number, number, number];
  std: [number, number, number];
}

function labStats(pixels: Uint8Array): { mean: number[]; std: number[]; lab: Float64Array[] } {
  const lab = rgbToLab(pixels);
  const mean: number[] = [];
  const std: number[] = [];
  for (const channel of lab) {
    let sum = 0;
    let sumSquares = 0;
    for (const value of channel) {
      sum += value;
      sumSquares += value * value;
    }
    const m = sum / channel.length;
    mean.push(m);
    std.push(Math.sqrt(Math.max(sumSquares / channel.length - m * m, 0)));
  }
  return { mean, std, lab };
}

/** The target is the average per-image colour statistics of the training images (Reinhard et al. 2001). */
export function fitReinhard(images: Uint8Array[]): ReinhardParams {
  const mean = [0, 0, 0];
  const std = [0, 0, 0];
  for (const pixels of images) {
    const stats = labStats(pixels);
    for (let c = 0; c < 3; c++) {
      mean[c] += stats.mean[c] / images.length;
      std[c] += stats.std[c] / images.length;
    }
  }
  return { method: 'reinhard', mean: mean as [number, number, number], std: std as [number, number, number] };
}

/** Shifts and scales each LAB channel of this image to the target mean and spread. */
export function applyReinhard(params: ReinhardParams, pixels: Uint8Array): Uint8Array {
  const { mean, std, lab } = labStats(pixels);
  for (let c = 0; c < 3; c++) {
    const scale = std[c] > 1e-6 ? params.std[c] / std[c] : 1;
    const channel = lab[c];
    for (let i = 0; i < channel.length; i++) channel[i] = (channel[i] - mean[c]) * scale + params.mean[c];
  }
  return labToRgb(lab[0], lab[1], lab[2], new Uint8Array(pixels.length));
}
