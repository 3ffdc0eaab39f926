// The maps of predicted images and their measures, computed (not drawn): for each method, the map
// of the explained class, its share on the cell (cell energy, against a mask made from the image),
// its deletion and insertion AUC, and, when asked, its rank correlation with the same method on a
// re-initialised model. A seeded random map goes through the same measures as the baseline.
// explain (one image or a folder) and the explain benchmark both call this, so their numbers agree.
import { writeNormalizedChw } from '../data/index.js';
import { cellEnergy, cellMask, mapRankCorrelations, randomMaps, type CellMask, type ExplainMethod } from '../explain/index.js';
import type { AplNet } from '../model/index.js';
import { cat, fromTypedArray, tidy, type Tensor } from '../torch/index.js';
import { modelMaps, runCurve, runMaps } from './ensemble-explain.js';
import type { LoadedRun } from './load-run.js';
import { calibratedTtaMode } from './tta-mode.js';
import type { ImagePrediction } from './predict-images.js';

/** The name the random baseline goes under beside the methods. */
export const RANDOM_BASELINE = 'random';

export interface MapMeasures {
  cell_energy: number;
  deletion_auc: number;
  insertion_auc: number;
}

export interface ExplainedImage {
  prediction: ImagePrediction;
  explainedClass: string;
  /** Per method and 'random': the map, side × side row-major values in [0, 1] as explain returns them. */
  maps: Record<string, Float32Array>;
  mask: CellMask;
  measures: Record<string, MapMeasures>;
  /** Per method and 'random': the explained class's probability along each curve (at `fractions`). */
  curves: Record<string, { deletion: number[]; insertion: number[] }>;
  /** Per method, when a re-initialised model was given: Spearman's rho between its map and this one. */
  randomizationRho: Record<string, number>;
}

export interface ExplainBatchOptions {
  /** Methods to compute; each must be one the model can produce (see applicableMethods). */
  methods: readonly ExplainMethod[];
  /** Class to explain, by name; default each image's predicted class. */
  targetClass?: string;
  /** Points on each deletion / insertion curve, minus one. */
  steps?: number;
  /** Images explained together: their maps (and the random one) form one batch per curve point. */
  chunk?: number;
  /** The same architecture, re-initialised, for the model-randomisation check. */
  randomized?: AplNet;
  /** Seed of the random baseline's maps; image i of the call gets seed + i, so any chunking gives the same maps. */
  randomSeed?: number;
}

export interface ExplainBatchResult {
  images: ExplainedImage[];
  /** Fraction of pixels removed or restored at each curve point. */
  fractions: number[];
}

/** The model input of predicted images, rebuilt from the pixels the prediction core saw: no second decode. */
function inputOf(run: LoadedRun, predictions: readonly ImagePrediction[]): Tensor {
  const side = run.inference.preprocessing.size;
  const plane = 3 * side * side;
  const x = new Float32Array(predictions.length * plane);
  predictions.forEach((p, i) => writeNormalizedChw(p.pixels, run.inference.channelStats, x, i * plane));
  return fromTypedArray(x, [predictions.length, 3, side, side], { device: run.model.parameters()[0]?.device ?? 'cpu' });
}

function valuesOf(maps: Tensor): Float32Array {
  return tidy(() => maps.to('float32').data<'float32'>());
}

function explainChunk(run: LoadedRun, predictions: readonly ImagePrediction[], firstIndex: number, options: ExplainBatchOptions, steps: number): ExplainBatchResult {
  const side = run.inference.preprocessing.size;
  const pixels = side * side;
  const n = predictions.length;
  const targets = predictions.map((p) => run.classNames.indexOf(options.targetClass ?? p.predicted));
  const names = [...options.methods, RANDOM_BASELINE];
  const x = inputOf(run, predictions);
  const stacked: Tensor[] = [];
  try {
    // The run's own maps: every member of an ensemble, every view under TTA (ensemble-explain.ts).
    const tta = calibratedTtaMode(run);
    for (const method of options.methods) stacked.push(runMaps(run, x, method, targets, tta));
    stacked.push(tidy(() => cat(Array.from({ length: n }, (_, i) => randomMaps(1, side, side, { seed: (options.randomSeed ?? 0) + firstIndex + i })), 0)));
    const values = stacked.map(valuesOf);
    const rho = options.methods.map((method) => {
      if (!options.randomized) return null;
      const randomizedMaps = modelMaps(options.randomized, x, method, targets, tta);
      try {
        return mapRankCorrelations(values[options.methods.indexOf(method)], valuesOf(randomizedMaps), n);
      } finally {
        randomizedMaps.dispose();
      }
    });
    // Every map of every image in one batch (each image repeated once per map): one forward per curve point.
    const curves = tidy(() => {
      const images = cat(names.map(() => x), 0);
      const maps = cat(stacked, 0);
      const repeated = names.flatMap(() => targets);
      const batchSize = images.shape[0];
      return { deletion: runCurve(run, images, maps, repeated, 'deletion', { steps, batchSize }), insertion: runCurve(run, images, maps, repeated, 'insertion', { steps, batchSize }) };
    });
    const images = predictions.map((prediction, i): ExplainedImage => {
      const mask = cellMask({ pixels: prediction.pixels, width: side, height: side });
      const image: ExplainedImage = { prediction, explainedClass: run.classNames[targets[i]], maps: {}, mask, measures: {}, curves: {}, randomizationRho: {} };
      names.forEach((name, m) => {
        const map = values[m].slice(i * pixels, (i + 1) * pixels);
        const row = m * n + i;
        image.maps[name] = map;
        image.measures[name] = { cell_energy: cellEnergy(map, mask.data), deletion_auc: curves.deletion.auc[row], insertion_auc: curves.insertion.auc[row] };
        image.curves[name] = { deletion: curves.deletion.probabilities[row], insertion: curves.insertion.probabilities[row] };
        const r = rho[m];
        if (r) image.randomizationRho[name] = r[i];
      });
      return image;
    });
    return { images, fractions: curves.deletion.fractions };
  } finally {
    x.dispose();
    for (const t of stacked) t.dispose();
  }
}

/** Explains `predictions` chunk by chunk; onChunk (e.g. writing files) runs before the next chunk, so memory stays flat. */
export async function explainPredictions(run: LoadedRun, predictions: readonly ImagePrediction[], options: ExplainBatchOptions, onChunk?: (chunk: ExplainBatchResult) => Promise<void> | void): Promise<ExplainBatchResult> {
  const { steps = 20, chunk = 8 } = options;
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= 1000)) throw new Error(`explain: steps must be an integer from 1 to 1000, got ${steps}`);
  if (!(Number.isInteger(chunk) && chunk >= 1)) throw new Error(`explain: chunk must be a positive integer, got ${chunk}`);
  if (options.targetClass !== undefined && !run.classNames.includes(options.targetClass)) {
    throw new Error(`--target "${options.targetClass}" is not a class of this run; its classes are ${run.classNames.join(', ')}`);
  }
  const all: ExplainedImage[] = [];
  let fractions = Array.from({ length: steps + 1 }, (_, k) => k / steps);
  for (let first = 0; first < predictions.length; first += chunk) {
    const result = explainChunk(run, predictions.slice(first, first + chunk), first, options, steps);
    fractions = result.fractions;
    await onChunk?.(result);
    all.push(...(onChunk ? result.images.map((image) => ({ ...image, maps: {} })) : result.images));
  }
  return { images: all, fractions };
}
