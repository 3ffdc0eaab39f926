// A map must be flat where there is nothing to see. Three inputs with no cell: one constant grey,
// a blank white slide, and seeded uniform noise (where any structure in the map is the network's
// own, e.g. a lattice from strided convolutions or padding). Each map's coefficient of variation is
// 0 when it is flat; the normalised maps of explain send a perfectly flat map to all zeros, which
// also scores 0 (see coefficientOfVariation).
import { mulberry32, writeNormalizedChw, type ChannelStats } from '../../data/index.js';
import type { AplNet } from '../../model/index.js';
import { fromTypedArray, type Tensor } from '../../torch/index.js';
import { explain, type ExplainMethod } from '../explain.js';
import { coefficientOfVariation } from './map-measures.js';

export const FLATNESS_INPUTS = ['constant', 'blank', 'noise'] as const;
export type FlatnessInput = (typeof FLATNESS_INPUTS)[number];

/** The three images as RGB pixels (HWC uint8), side × side. */
export function flatnessImages(side: number, seed = 0): Record<FlatnessInput, Uint8Array> {
  const next = mulberry32(seed);
  return {
    constant: new Uint8Array(side * side * 3).fill(128),
    blank: new Uint8Array(side * side * 3).fill(255),
    noise: Uint8Array.from({ length: side * side * 3 }, () => Math.floor(next() * 256)),
  };
}

/** The three images as one normalised model input [3, C, side, side], in FLATNESS_INPUTS order. */
export function flatnessBatch(side: number, stats: ChannelStats, device = 'cpu', seed = 0): Tensor {
  const images = flatnessImages(side, seed);
  const x = new Float32Array(FLATNESS_INPUTS.length * 3 * side * side);
  FLATNESS_INPUTS.forEach((name, i) => writeNormalizedChw(images[name], stats, x, i * 3 * side * side));
  return fromTypedArray(x, [FLATNESS_INPUTS.length, 3, side, side], { device });
}

/** Coefficient of variation of `method`'s map (of each image's predicted class) on each input. */
export function mapFlatness(model: AplNet, method: ExplainMethod, stats: ChannelStats, seed = 0): Record<FlatnessInput, number> {
  const side = model.config.inputSize;
  const batch = flatnessBatch(side, stats, model.parameters()[0]?.device ?? 'cpu', seed);
  try {
    const maps = explain(model, batch, { method });
    const values = maps.to('float32').data<'float32'>();
    maps.dispose();
    const pixels = side * side;
    return Object.fromEntries(FLATNESS_INPUTS.map((name, i) => [name, coefficientOfVariation(values.subarray(i * pixels, (i + 1) * pixels))])) as Record<FlatnessInput, number>;
  } finally {
    batch.dispose();
  }
}
