// Drawing explanation maps, kept apart from computing them: a colormap blended onto the original
// image (optionally with the map's iso-line), or the bare heatmap, encoded as PNG by sharp.
import sharp from 'sharp';
import { colormapTable, type ColormapName } from './colormaps.js';
import { contourMask } from './contour.js';
import { resizeHeatMap, type HeatMap } from './heat-map.js';

/** An 8-bit RGB image, row-major, channels interleaved (HWC), as sharp's raw output gives it. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface OverlayOptions {
  colormap?: ColormapName;
  /** Weight of the colour over the image, in [0, 1]. */
  opacity?: number;
  /** Draw the map's iso-line at contourLevel in white. */
  contour?: boolean;
  contourLevel?: number;
}

const CONTOUR_RGB = [255, 255, 255];

function checkRange(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new Error(`overlay: ${name} must be in [0, 1], got ${value}`);
}

function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

const levelOf = (v: number): number => Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);

/** The map blended onto the image, at the image's size (the map is resized bilinearly if needed). */
export async function renderOverlay(image: RgbImage, map: HeatMap, { colormap = 'turbo', opacity = 0.45, contour = false, contourLevel = 0.5 }: OverlayOptions = {}): Promise<Buffer> {
  const { width, height } = image;
  if (image.data.length !== width * height * 3) throw new Error(`overlay: image data has ${image.data.length} bytes, expected ${width}×${height}×3 RGB`);
  checkRange('opacity', opacity);
  checkRange('contourLevel', contourLevel);
  const fitted = resizeHeatMap(map, width, height);
  const table = colormapTable(colormap);
  const outline = contour ? contourMask(fitted, contourLevel) : null;
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const level = levelOf(fitted.data[p]);
    for (let ch = 0; ch < 3; ch++) {
      const blended = (1 - opacity) * image.data[p * 3 + ch] + opacity * table[level * 3 + ch];
      out[p * 3 + ch] = outline?.[p] ? CONTOUR_RGB[ch] : Math.round(blended);
    }
  }
  return encodePng(out, width, height);
}

/** The map alone in colour, at its own size or resized to width × height. */
export async function renderHeatmap(map: HeatMap, { colormap = 'turbo', width = map.width, height = map.height }: { colormap?: ColormapName; width?: number; height?: number } = {}): Promise<Buffer> {
  const fitted = resizeHeatMap(map, width, height);
  const table = colormapTable(colormap);
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const level = levelOf(fitted.data[p]);
    out.set(table.subarray(level * 3, level * 3 + 3), p * 3);
  }
  return encodePng(out, width, height);
}
