// Real cells for the ddp benchmark: a fixed, seeded draw of pbc-8class images (every class mixed
// into every batch) with their real labels, decoded once by sharp to side × side RGB (centre crop of
// the shorter side, as training's default resize) and stored as one uint8 file that every process
// of the benchmark reads, so the one-process and the data-parallel runs see the very same pixels.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { fromTypedArray, type Tensor } from '../src/torch/index.js';

export const PBC_DIR = fileURLToPath(new URL('../../../shared/data/pbc-8class/', import.meta.url));

export interface CellBatches {
  /** N images, HWC uint8, side × side each. */
  pixels: Uint8Array;
  labels: Int32Array;
  side: number;
  classNames: string[];
  /** Per-channel mean and standard deviation of the drawn pixels (in [0, 1]). */
  mean: number[];
  std: number[];
  files: string[];
}

/** mulberry32: a small seeded generator, so the draw is the same on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws `count` images of pbc-8class (seeded shuffle of labels.csv), decodes them and writes `<prefix>.bin` and `<prefix>.json`. */
export async function prepareCells(prefix: string, count: number, side: number, seed = 0): Promise<void> {
  const rows = readFileSync(join(PBC_DIR, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
  const classNames = [...new Set(rows.map((row) => row[1]))].sort();
  const next = random(seed);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  if (count > rows.length) throw new Error(`bench ddp: ${count} images asked for, pbc-8class has ${rows.length}; fewer steps or a smaller batch`);
  const chosen = order.slice(0, count).map((i) => rows[i]);
  const pixels = new Uint8Array(count * side * side * 3);
  for (const [i, row] of chosen.entries()) {
    const { data } = await sharp(join(PBC_DIR, row[0])).removeAlpha().resize(side, side, { fit: 'cover', position: 'centre' }).raw().toBuffer({ resolveWithObject: true });
    pixels.set(data, i * side * side * 3);
  }
  const sums = [0, 0, 0];
  const squares = [0, 0, 0];
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] / 255;
    sums[i % 3] += v;
    squares[i % 3] += v * v;
  }
  const n = pixels.length / 3;
  const mean = sums.map((s) => s / n);
  const std = squares.map((s, c) => Math.sqrt(s / n - mean[c] ** 2));
  writeFileSync(`${prefix}.bin`, pixels);
  const labels = chosen.map((row) => classNames.indexOf(row[1]));
  writeFileSync(`${prefix}.json`, JSON.stringify({ side, classNames, mean, std, labels, files: chosen.map((row) => row[0]) }));
}

export function readCells(prefix: string): CellBatches {
  const meta = JSON.parse(readFileSync(`${prefix}.json`, 'utf8')) as Omit<CellBatches, 'pixels' | 'labels'> & { labels: number[] };
  const bytes = readFileSync(`${prefix}.bin`);
  return { ...meta, pixels: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), labels: Int32Array.from(meta.labels) };
}

/**
 * Images [from, from + n) as a normalised NCHW float32 tensor and their labels (int64); `reversed`
 * serves them last to first, the same batch summed in another order (the rounding control).
 */
export function cellBatch(cells: CellBatches, from: number, n: number, reversed = false): { x: Tensor; y: Tensor } {
  const { side, pixels, mean, std } = cells;
  const plane = side * side;
  const x = new Float32Array(n * 3 * plane);
  const index = (i: number) => from + (reversed ? n - 1 - i : i);
  for (let i = 0; i < n; i++) {
    const source = index(i) * plane * 3;
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < 3; c++) x[i * 3 * plane + c * plane + p] = (pixels[source + p * 3 + c] / 255 - mean[c]) / std[c];
    }
  }
  const y = BigInt64Array.from({ length: n }, (_, i) => BigInt(cells.labels[index(i)]));
  return { x: fromTypedArray(x, [n, 3, side, side]), y: fromTypedArray(y, [n]) };
}
