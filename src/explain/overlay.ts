// Drawing explanation maps, kept apart from computing them: a colormap blended onto the original
// image with an opacity that follows the map's value (see map-style.ts), optionally outlined at an
// iso-line, or the bare heatmap, encoded as PNG by sharp.
import sharp from 'sharp';
import { colormapTable, type ColormapName } from './colormaps.js';
import { contourMask, outerContourMask, quantileLevel } from './contour.js';
import { resizeHeatMap, type HeatMap } from './heat-map.js';
import { checkUnitRange, DEFAULT_COLORMAP, DEFAULT_FLOOR, DEFAULT_OPACITY, valueAlpha } from './map-style.js';

/** An 8-bit RGB image, row-major, channels interleaved (HWC), as sharp's raw output gives it. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

export interface OverlayOptions {
  colormap?: ColormapName;
  /** Weight of the colour over the image where the map is 1, in [0, 1]. */
  opacity?: number;
  /** Map values at or below this are not painted; above it the colour fades in (map-style.ts). */
  floor?: number;
  /** Outline the map at contourLevel, or at the quantile contourQuantile when that is given. */
  contour?: boolean;
  contourLevel?: number;
  /** e.g. 0.9 outlines the top 10% of the map's pixels; implies contour. */
  contourQuantile?: number;
}

// Two-tone line: dark inside, white outside, so it shows on pale background and dark nucleus alike.
const INNER_RGB = [0, 0, 0];
const OUTER_RGB = [255, 255, 255];

export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 3 | 4 = 3): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels } }).png().toBuffer();
}

const levelOf = (v: number): number => Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);

function contourLevelOf(map: HeatMap, { contour = false, contourLevel = 0.5, contourQuantile }: OverlayOptions): number | null {
  checkUnitRange('overlay: contourLevel', contourLevel);
  if (contourQuantile !== undefined) return quantileLevel(map, contourQuantile);
  return contour ? contourLevel : null;
}

/** The overlay as raw RGB bytes at the image's size, for composing (the map is resized bilinearly if needed). */
export function paintOverlay(image: RgbImage, map: HeatMap, options: OverlayOptions = {}): Uint8Array {
  const { colormap = DEFAULT_COLORMAP, opacity = DEFAULT_OPACITY, floor = DEFAULT_FLOOR } = options;
  const { width, height } = image;
  if (image.data.length !== width * height * 3) throw new Error(`overlay: image data has ${image.data.length} bytes, expected ${width}×${height}×3 RGB`);
  checkUnitRange('overlay: opacity', opacity);
  checkUnitRange('overlay: floor', floor);
  const fitted = resizeHeatMap(map, width, height);
  const table = colormapTable(colormap);
  const level = contourLevelOf(fitted, options);
  const inner = level === null ? null : contourMask(fitted, level);
  const outer = level === null ? null : outerContourMask(fitted, level);
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    const v = fitted.data[p];
    const alpha = opacity * valueAlpha(v, floor);
    const colour = levelOf(v) * 3;
    for (let ch = 0; ch < 3; ch++) {
      const blended = (1 - alpha) * image.data[p * 3 + ch] + alpha * table[colour + ch];
      out[p * 3 + ch] = inner?.[p] ? INNER_RGB[ch] : outer?.[p] ? OUTER_RGB[ch] : Math.round(blended);
    }
  }
  return out;
}

/** The map blended onto the image, at the image's size, as PNG. */
export function renderOverlay(image: RgbImage, map: HeatMap, options: OverlayOptions = {}): Promise<Buffer> {
  try {
    return encodePng(paintOverlay(image, map, options), image.width, image.height);
  } catch (error) {
    return Promise.reject(error);
  }
}

export interface HeatmapOptions {
  colormap?: ColormapName;
  width?: number;
  height?: number;
  /**
   * Give the PNG an alpha channel that follows the value (0 up to `floor`, 255 at 1), so a viewer
   * that lays it over the image at opacity a (the web page) draws exactly what renderOverlay draws.
   */
  valueAlpha?: boolean;
  floor?: number;
}

/** The map alone in colour, at its own size or resized to width × height. */
export async function renderHeatmap(map: HeatMap, { colormap = DEFAULT_COLORMAP, width = map.width, height = map.height, valueAlpha: withAlpha = false, floor = DEFAULT_FLOOR }: HeatmapOptions = {}): Promise<Buffer> {
  checkUnitRange('heatmap: floor', floor);
  const fitted = resizeHeatMap(map, width, height);
  const table = colormapTable(colormap);
  const channels = withAlpha ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  for (let p = 0; p < width * height; p++) {
    const level = levelOf(fitted.data[p]);
    out.set(table.subarray(level * 3, level * 3 + 3), p * channels);
    if (withAlpha) out[p * 4 + 3] = Math.round(255 * valueAlpha(fitted.data[p], floor));
  }
  return encodePng(out, width, height, channels);
}
