// How much of each crop the cell fills, measured on the training images as the model sees them, so
// train can say when --zoom cuts cells (the cell reaches the border) or when it would give a small
// cell more pixels at the same cost. The cell is the stained part nearest the centre: pixels of a
// Romanowsky / May-Grünwald-Giemsa stain's purple-blue (blue − green > 40, green < 160), joined
// across gaps of a few pixels (a segmented nucleus is one cell). Nothing here changes training; it
// only measures and advises. scripts/experiments/cell-extent.mjs is the same measure on the files.
import { percentile } from './percentile.js';
import { MAX_ZOOM } from './preprocessing.js';

export interface CellExtentSummary {
  /** Training images measured, and how many of them had a stained part at all. */
  measured: number;
  stained: number;
  /** Percentiles of the extent: the stained part's largest distance from the centre along x or y, as a share of the half side (1 = it reaches the border). */
  median: number;
  p95: number;
  /** Share of the stained images whose cell reaches the border (extent ≥ TOUCHING). */
  touching: number;
}

/** An extent at or above this reaches the border (within a pixel or two at 144 px). */
export const TOUCHING = 0.97;
/** Below this share of images with a stained part, the stain is not one the measure knows: nothing is said. */
const MIN_STAINED_SHARE = 0.9;

function isStained(pixels: Uint8Array, i: number): boolean {
  const green = pixels[3 * i + 1];
  return pixels[3 * i + 2] - green > 40 && green < 160;
}

/**
 * The extent of the stained part nearest the centre of a side×side RGB (HWC) image, in [0, 1], or
 * null when nothing in it is stained.
 */
export function stainedExtent(pixels: Uint8Array, side: number): number | null {
  if (pixels.length !== side * side * 3) throw new Error(`stainedExtent: ${pixels.length} values for a ${side}×${side} RGB image`);
  const count = side * side;
  const half = side / 2;
  const gap = Math.max(1, Math.round(side / 60));
  const joined = new Uint8Array(count);
  let seed = -1;
  let nearest = Infinity;
  for (let i = 0; i < count; i++) {
    if (!isStained(pixels, i)) continue;
    const x = i % side;
    const y = (i - x) / side;
    const distance = (x + 0.5 - half) ** 2 + (y + 0.5 - half) ** 2;
    if (distance < nearest) {
      nearest = distance;
      seed = i;
    }
    for (let dy = -gap; dy <= gap; dy++) {
      for (let dx = -gap; dx <= gap; dx++) {
        const X = x + dx;
        const Y = y + dy;
        if (X >= 0 && Y >= 0 && X < side && Y < side) joined[Y * side + X] = 1;
      }
    }
  }
  if (seed < 0) return null;
  let extent = 0;
  const seen = new Uint8Array(count);
  const stack = [seed];
  seen[seed] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    const x = i % side;
    const y = (i - x) / side;
    if (isStained(pixels, i)) extent = Math.max(extent, Math.abs(x + 0.5 - half), Math.abs(y + 0.5 - half));
    for (const [X, Y] of [[x + 1, y], [x - 1, y], [x, y + 1], [x, y - 1]]) {
      if (X < 0 || Y < 0 || X >= side || Y >= side) continue;
      const j = Y * side + X;
      if (joined[j] && !seen[j]) {
        seen[j] = 1;
        stack.push(j);
      }
    }
  }
  return Math.min(1, extent / half);
}

/** Collects extents of training images (at most `limit`: a few hundred describe a dataset; the caller spreads them over it). */
export class CellExtentAccumulator {
  private readonly extents: number[] = [];
  private measured = 0;

  constructor(readonly limit = 512) {}

  add(pixels: Uint8Array, side: number): void {
    if (this.measured >= this.limit) return;
    this.measured += 1;
    const extent = stainedExtent(pixels, side);
    if (extent !== null) this.extents.push(extent);
  }

  result(): CellExtentSummary | null {
    if (this.measured === 0) return null;
    const extents = Float64Array.from(this.extents);
    const at = (percent: number) => (extents.length === 0 ? 0 : percentile(extents, percent));
    return {
      measured: this.measured,
      stained: extents.length,
      median: at(50),
      p95: at(95),
      touching: extents.length === 0 ? 0 : this.extents.filter((e) => e >= TOUCHING).length / extents.length,
    };
  }
}

const knowsTheStain = (summary: CellExtentSummary | null): boolean =>
  summary !== null && summary.stained > 0 && summary.stained >= MIN_STAINED_SHARE * summary.measured;

const pct = (value: number) => `${Math.round(value * 100)}%`;

const whereTheCellsAre = (summary: CellExtentSummary) =>
  `the stained cell nearest the centre reaches ${pct(summary.median)} of the way to the border (median; 95th percentile ${pct(summary.p95)}) in ${summary.stained} training images`;

/**
 * The further zoom that keeps the 95th percentile of the extent whole, rounded down to a quarter,
 * when it is worth taking (the cells fill less than 70% of the half side, and the zoom is ≥ 1.25);
 * else 1. At most MAX_ZOOM / the zoom already applied is left to the caller.
 */
function roomToZoom(summary: CellExtentSummary): number {
  const room = Math.floor((1 / summary.p95) * 4) / 4;
  return summary.p95 < 0.7 && room >= 1.25 ? room : 1;
}

/**
 * What to tell the user about the zoom, or null when there is nothing to say (the stain is not one
 * the measure knows, or the zoom suits the cells). `zoom` is the one the images were measured at.
 */
export function cellExtentAdvice(summary: CellExtentSummary | null, zoom: number): { warning: boolean; text: string } | null {
  if (!summary || !knowsTheStain(summary)) return null;
  const where = whereTheCellsAre(summary);
  if (summary.touching > 0.1) {
    return {
      warning: true,
      text: `${pct(summary.touching)} of the training cells reach the border of the input${zoom > 1 ? ` at --zoom ${zoom}: it cuts them; lower it` : ': the crops cut them'} (${where})`,
    };
  }
  const room = roomToZoom(summary);
  if (room > 1) {
    return { warning: false, text: `${where}: --zoom ${Math.min(MAX_ZOOM, zoom * room)} would give the cells more pixels at the same cost and still keep 95% of them whole` };
  }
  return null;
}

/**
 * `--zoom auto`: the zoom for cells measured on the whole crops (zoom 1), with the reason in words.
 * The one the advice above would name; 1 when the stain is not one the measure knows, when the
 * crops already cut more than 10% of the cells, or when the cells already fill the input.
 */
export function autoZoom(summary: CellExtentSummary | null): { zoom: number; reason: string } {
  if (!summary || !knowsTheStain(summary)) {
    const found = summary ? `${summary.stained} of ${summary.measured} training images` : 'no training image';
    return { zoom: 1, reason: `the whole crop: the measure finds a Romanowsky/MGG-stained cell in ${found} (it needs ${pct(MIN_STAINED_SHARE)}), so it cannot say where the cells are` };
  }
  const where = whereTheCellsAre(summary);
  if (summary.touching > 0.1) return { zoom: 1, reason: `the whole crop: ${pct(summary.touching)} of the training cells already reach its border (${where})` };
  const zoom = Math.min(MAX_ZOOM, roomToZoom(summary));
  if (zoom === 1) return { zoom: 1, reason: `the whole crop: the cells already fill it (${where})` };
  return { zoom, reason: `${where} at zoom 1; ${zoom} gives them more pixels at the same cost and keeps 95% of them whole` };
}
