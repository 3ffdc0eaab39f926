import { readFile } from 'node:fs/promises';
import { DataError } from './errors.js';

/** Per-channel mean and standard deviation of RGB in [0, 1], measured on the training split. */
export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/** Accumulates sums in float64 over any number of images, so the whole training split fits in three pairs of numbers. */
export class ChannelStatsAccumulator {
  private readonly sums = [0, 0, 0];
  private readonly squares = [0, 0, 0];
  private count = 0;

  add(pixels: Uint8Array): void {
    const sums = [0, 0, 0];
    const squares = [0, 0, 0];
    for (let i = 0; i < pixels.length; i += 3) {
      for (let c = 0; c < 3; c++) {
        const value = pixels[i + c];
        sums[c] += value;
        squares[c] += value * value;
      }
    }
    for (let c = 0; c < 3; c++) {
      this.sums[c] += sums[c];
      this.squares[c] += squares[c];
    }
    this.count += pixels.length / 3;
  }

  result(): ChannelStats {
    if (this.count === 0) throw new DataError('channel-stats', 'bad-config', 'no training pixels to measure mean and std on');
    const mean = this.sums.map((sum) => sum / this.count / 255);
    const std = this.squares.map((square, c) => Math.sqrt(Math.max(square / this.count / 65025 - mean[c] * mean[c], 1e-12)));
    return { mean: mean as [number, number, number], std: std as [number, number, number] };
  }
}

/** Writes one HWC uint8 image as normalised CHW float32 into `out` starting at `offset`. */
export function writeNormalizedChw(pixels: Uint8Array, stats: ChannelStats, out: Float32Array, offset: number): void {
  const plane = pixels.length / 3;
  for (let c = 0; c < 3; c++) {
    const scale = 1 / (255 * stats.std[c]);
    const shift = stats.mean[c] / stats.std[c];
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) out[base + i] = pixels[3 * i + c] * scale - shift;
  }
}

export function parseChannelStats(value: unknown, file = 'channel-stats'): ChannelStats {
  const candidate = value as Partial<ChannelStats> | null;
  const valid = (v: unknown, positive: boolean) =>
    Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && (!positive || x > 0));
  if (!valid(candidate?.mean, false) || !valid(candidate?.std, true)) {
    throw new DataError(file, 'bad-config', 'expected {"mean":[r,g,b],"std":[r,g,b]} with positive std');
  }
  return candidate as ChannelStats;
}

export async function loadChannelStats(path: string): Promise<ChannelStats> {
  return parseChannelStats(JSON.parse(await readFile(path, 'utf8')), path);
}
