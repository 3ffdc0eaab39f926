// A prediction drawn as PNGs: the input as the model saw it, and each map as an overlay or a bare
// heatmap. Kept apart from predicting, as explain keeps drawing apart from computing maps.
import sharp from 'sharp';
import { renderHeatmap, renderOverlay, type ExplainMethod } from '../explain/index.js';
import type { ImagePrediction } from './predict-images.js';

function mapOf(prediction: ImagePrediction, method: ExplainMethod) {
  const map = prediction.maps[method];
  if (!map) throw new Error(`${prediction.file}: no ${method} map was computed for this prediction`);
  return map;
}

export function inputPng(prediction: ImagePrediction): Promise<Buffer> {
  const { pixels, side } = prediction;
  return sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength), { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}

export function overlayPng(prediction: ImagePrediction, method: ExplainMethod, { opacity = 0.45 }: { opacity?: number } = {}): Promise<Buffer> {
  return renderOverlay({ data: prediction.pixels, width: prediction.side, height: prediction.side }, mapOf(prediction, method), { opacity });
}

export function heatmapPng(prediction: ImagePrediction, method: ExplainMethod): Promise<Buffer> {
  return renderHeatmap(mapOf(prediction, method), { width: prediction.side, height: prediction.side });
}
