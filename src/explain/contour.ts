// The iso-line of a map, as pixel masks. Drawn over an overlay it outlines the attended region
// without hiding the cell's morphology under colour. A level can be given as a quantile of the map
// ("the top 10%"), which means the same thing on every image whatever the map's spread.
import type { HeatMap } from './heat-map.js';

function boundary(map: HeatMap, isInside: (v: number) => boolean): Uint8Array {
  const { data, width, height } = map;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!isInside(data[i])) continue;
      const outsideNeighbour = (x > 0 && !isInside(data[i - 1])) || (x < width - 1 && !isInside(data[i + 1])) || (y > 0 && !isInside(data[i - width])) || (y < height - 1 && !isInside(data[i + width]));
      if (outsideNeighbour) mask[i] = 1;
    }
  }
  return mask;
}

/** Pixels at or above the level with a 4-neighbour below it: the line's inner edge. */
export function contourMask(map: HeatMap, level: number): Uint8Array {
  return boundary(map, (v) => v >= level);
}

/** Pixels below the level with a 4-neighbour at or above it: the line's outer edge. */
export function outerContourMask(map: HeatMap, level: number): Uint8Array {
  return boundary(map, (v) => !(v >= level));
}

/** The map value below which a share q of its pixels lie: level of the line enclosing the top 1 − q. */
export function quantileLevel(map: HeatMap, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new Error(`contour quantile must be in [0, 1], got ${q}`);
  const sorted = Float32Array.from(map.data.filter(Number.isFinite)).sort();
  if (sorted.length === 0) return Infinity;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
