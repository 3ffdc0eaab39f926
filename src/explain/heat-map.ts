// A single-image explanation map on the JS side, for drawing: row-major values in [0, 1].
import type { Tensor } from '../torch/index.js';

export interface HeatMap {
  data: Float32Array;
  width: number;
  height: number;
}

/** Image `index` of a [N, 1, H, W] map tensor (from explain) as a HeatMap. */
export function heatMapOf(maps: Tensor, index: number): HeatMap {
  const [n, c, height, width] = maps.shape;
  if (maps.ndim !== 4 || c !== 1) throw new Error(`heatMapOf: expected maps [N, 1, H, W], got [${maps.shape}]`);
  if (!(index >= 0 && index < n)) throw new Error(`heatMapOf: image ${index} out of range 0..${n - 1}`);
  const one = maps.select(0, index).to('float32');
  const data = one.data<'float32'>();
  one.dispose();
  return { data, width, height };
}

/** Bilinear resize with PyTorch's align_corners=false sampling, so small maps line up with the image. */
export function resizeHeatMap(map: HeatMap, width: number, height: number): HeatMap {
  if (map.width === width && map.height === height) return map;
  const out = new Float32Array(width * height);
  const sx = map.width / width;
  const sy = map.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(fy), map.height - 1);
    const y1 = Math.min(y0 + 1, map.height - 1);
    const wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(Math.floor(fx), map.width - 1);
      const x1 = Math.min(x0 + 1, map.width - 1);
      const wx = fx - x0;
      const top = map.data[y0 * map.width + x0] * (1 - wx) + map.data[y0 * map.width + x1] * wx;
      const bottom = map.data[y1 * map.width + x0] * (1 - wx) + map.data[y1 * map.width + x1] * wx;
      out[y * width + x] = top * (1 - wy) + bottom * wy;
    }
  }
  return { data: out, width, height };
}
