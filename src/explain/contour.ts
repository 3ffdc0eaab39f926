// The iso-line of a map at one level, as a pixel mask: a pixel at or above the level with a
// 4-neighbour below it. Drawn over an overlay, it outlines the attended region without hiding
// the cell's morphology under colour.
import type { HeatMap } from './heat-map.js';

export function contourMask(map: HeatMap, level: number): Uint8Array {
  const { data, width, height } = map;
  const mask = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (data[i] < level) continue;
      const belowNeighbour = (x > 0 && data[i - 1] < level) || (x < width - 1 && data[i + 1] < level) || (y > 0 && data[i - width] < level) || (y < height - 1 && data[i + width] < level);
      if (belowNeighbour) mask[i] = 1;
    }
  }
  return mask;
}
