// A prediction drawn as PNGs: the input as the model saw it, each map as the explanation panel
// (original | overlay | legend), a bare overlay, or a heatmap layer whose alpha follows the value.
// Kept apart from predicting, as explain keeps drawing apart from computing maps.
import sharp from 'sharp';
import { renderExplanationPanel, renderHeatmap, renderOverlay, type ExplainMethod, type OverlayOptions, type RgbImage } from '../explain/index.js';
import type { ImagePrediction } from './predict-images.js';

/** How a map is drawn over its image: opacity, floor and contour, with explain's defaults. */
export type DrawOptions = Pick<OverlayOptions, 'opacity' | 'floor' | 'contourQuantile'>;

function mapOf(prediction: ImagePrediction, method: ExplainMethod) {
  const map = prediction.maps[method];
  if (!map) throw new Error(`${prediction.file}: no ${method} map was computed for this prediction`);
  return map;
}

const pictureOf = (prediction: ImagePrediction): RgbImage => ({ data: prediction.pixels, width: prediction.side, height: prediction.side });

export function inputPng(prediction: ImagePrediction): Promise<Buffer> {
  const { pixels, side } = prediction;
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}

export function overlayPng(prediction: ImagePrediction, method: ExplainMethod, options: DrawOptions = {}): Promise<Buffer> {
  return renderOverlay(pictureOf(prediction), mapOf(prediction, method), options);
}

/** original | overlay | legend: what a person reads (predict --overlays, the report's gallery). */
export function panelPng(prediction: ImagePrediction, method: ExplainMethod, options: DrawOptions & { legend?: boolean } = {}): Promise<Buffer> {
  return renderExplanationPanel(pictureOf(prediction), mapOf(prediction, method), { ...options, method });
}

/**
 * The map alone in colour. With valueAlpha it is the web page's layer: RGBA whose alpha follows the
 * value, so laid over inputPng at opacity a it draws what overlayPng draws at a.
 */
export function heatmapPng(prediction: ImagePrediction, method: ExplainMethod, { valueAlpha = false }: { valueAlpha?: boolean } = {}): Promise<Buffer> {
  return renderHeatmap(mapOf(prediction, method), { width: prediction.side, height: prediction.side, valueAlpha });
}
