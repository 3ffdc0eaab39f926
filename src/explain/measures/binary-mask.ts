// Small binary-image operations for the cell mask, on row-major Uint8Array masks (1 = inside).
// Written for 100–400 px images: plain breadth-first scans, 8-connected, no dependencies.

export interface BinaryMask {
  data: Uint8Array;
  width: number;
  height: number;
}

const NEIGHBOURS = [[-1, -1], [0, -1], [1, -1], [-1, 0], [1, 0], [-1, 1], [0, 1], [1, 1]] as const;
const EDGE_NEIGHBOURS = [[0, -1], [-1, 0], [1, 0], [0, 1]] as const;

/**
 * Breadth-first walk over pixels where `open(p)` holds, from `starts`; returns each pixel's step
 * count (-1: not reached). Diagonal moves are allowed on every other step only, so a limited walk
 * grows an octagon, close to a disc, instead of 8-connectivity's square.
 */
function walk(width: number, height: number, starts: number[], open: (p: number) => boolean, maxSteps = Infinity): Int32Array {
  const steps = new Int32Array(width * height).fill(-1);
  const queue = new Int32Array(width * height);
  let tail = 0;
  for (const p of starts) if (steps[p] < 0 && open(p)) { steps[p] = 0; queue[tail++] = p; }
  for (let head = 0; head < tail; head++) {
    const p = queue[head];
    if (steps[p] >= maxSteps) continue;
    const x = p % width;
    const y = (p - x) / width;
    for (const [dx, dy] of steps[p] % 2 === 0 ? EDGE_NEIGHBOURS : NEIGHBOURS) {
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const q = ny * width + nx;
      if (steps[q] < 0 && open(q)) { steps[q] = steps[p] + 1; queue[tail++] = q; }
    }
  }
  return steps;
}

const fromSteps = (steps: Int32Array, width: number, height: number): BinaryMask =>
  ({ data: Uint8Array.from(steps, (s) => (s >= 0 ? 1 : 0)), width, height });

/** Labels 8-connected components 1, 2, …; returns the labels and each label's area (index 0 unused). */
function labelComponents({ data, width, height }: BinaryMask): { labels: Int32Array; areas: number[] } {
  const labels = new Int32Array(width * height);
  const queue = new Int32Array(width * height);
  const areas = [0];
  for (let p = 0; p < data.length; p++) {
    if (!data[p] || labels[p]) continue;
    const label = areas.length;
    labels[p] = label;
    let tail = 0;
    queue[tail++] = p;
    for (let head = 0; head < tail; head++) {
      const q = queue[head];
      const x = q % width;
      const y = (q - x) / width;
      for (const [dx, dy] of NEIGHBOURS) {
        const nx = x + dx;
        const ny = y + dy;
        if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
        const r = ny * width + nx;
        if (data[r] && !labels[r]) { labels[r] = label; queue[tail++] = r; }
      }
    }
    areas.push(tail);
  }
  return { labels, areas };
}

/**
 * The connected component that holds (x, y), else the one with a pixel nearest to it among those of
 * at least minArea pixels (specks of stain are not a cell); all zeros when there is none.
 */
export function componentNearest(mask: BinaryMask, x: number, y: number, minArea = 1): BinaryMask {
  const { width, height } = mask;
  const { labels, areas } = labelComponents(mask);
  let best = 0;
  let bestDistance = Infinity;
  for (let p = 0; p < labels.length; p++) {
    const label = labels[p];
    if (!label || areas[label] < minArea) continue;
    const px = p % width;
    const distance = (px - x) ** 2 + ((p - px) / width - y) ** 2;
    if (distance < bestDistance) { best = label; bestDistance = distance; }
  }
  return { data: Uint8Array.from(labels, (label) => (best && label === best ? 1 : 0)), width, height };
}

/** Every background region not connected to the image border becomes inside (a nucleus's pale centre, its lobes' gaps). */
export function fillHoles({ data, width, height }: BinaryMask): BinaryMask {
  const border: number[] = [];
  for (let x = 0; x < width; x++) border.push(x, (height - 1) * width + x);
  for (let y = 0; y < height; y++) border.push(y * width, y * width + width - 1);
  const outside = walk(width, height, border, (p) => data[p] === 0);
  return { data: Uint8Array.from(outside, (s) => (s >= 0 ? 0 : 1)), width, height };
}

/** Grows `seed` by up to `steps` pixels (8-connected), only through pixels where `allowed` is 1 (geodesic dilation). */
export function growWithin(seed: BinaryMask, allowed: BinaryMask, steps: number): BinaryMask {
  const { width, height } = seed;
  const starts: number[] = [];
  for (let p = 0; p < seed.data.length; p++) if (seed.data[p]) starts.push(p);
  return fromSteps(walk(width, height, starts, (p) => seed.data[p] === 1 || allowed.data[p] === 1, steps), width, height);
}

/** Grows `mask` by `steps` pixels in every direction. */
export function dilate(mask: BinaryMask, steps: number): BinaryMask {
  return growWithin(mask, { ...mask, data: new Uint8Array(mask.data.length).fill(1) }, steps);
}

/** Share of the image's pixels inside. */
export function areaFraction({ data }: BinaryMask): number {
  let inside = 0;
  for (const v of data) inside += v;
  return data.length ? inside / data.length : 0;
}
