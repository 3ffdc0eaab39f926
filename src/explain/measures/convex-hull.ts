// The convex hull of a binary mask, filled. A segmented or bilobed nucleus (neutrophil, eosinophil)
// leaves the cytoplasm between its lobes outside any threshold; the hull takes it back.
import type { BinaryMask } from './binary-mask.js';

type Point = [number, number];

const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Andrew's monotone chain over pixel corners, so a one-pixel mask has a hull of its own area. */
function hullOf(points: Point[]): Point[] {
  const sorted = points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const half = (list: Point[]): Point[] => {
    const chain: Point[] = [];
    for (const p of list) {
      while (chain.length >= 2 && cross(chain[chain.length - 2], chain[chain.length - 1], p) <= 0) chain.pop();
      chain.push(p);
    }
    chain.pop();
    return chain;
  };
  return [...half(sorted), ...half([...sorted].reverse())];
}

export function convexHull({ data, width, height }: BinaryMask): BinaryMask {
  const corners: Point[] = [];
  for (let p = 0; p < data.length; p++) {
    if (!data[p]) continue;
    const x = p % width;
    const y = (p - x) / width;
    // Only a pixel on a row's ends can be a hull vertex; its four corners bound its square.
    if (x > 0 && x < width - 1 && data[p - 1] && data[p + 1]) continue;
    corners.push([x, y], [x + 1, y], [x, y + 1], [x + 1, y + 1]);
  }
  const out = new Uint8Array(width * height);
  if (corners.length === 0) return { data: out, width, height };
  const hull = hullOf(corners);
  // A pixel is inside when its centre is on the inner side of every edge (the hull runs counter-clockwise in x-right, y-down).
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const centre: Point = [x + 0.5, y + 0.5];
      let inside = true;
      for (let i = 0; i < hull.length && inside; i++) inside = cross(hull[i], hull[(i + 1) % hull.length], centre) >= 0;
      if (inside) out[y * width + x] = 1;
    }
  }
  return { data: out, width, height };
}
