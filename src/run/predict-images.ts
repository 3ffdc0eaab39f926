// The inference service behind `aplnet predict` and the web app: image files or uploaded bytes →
// calibrated class probabilities, the referral flag and, on request, attention / Grad-CAM overlays.
// One bad image becomes an error entry naming it; it never stops the rest of the batch.
import { isDataError, loadImageForInference, type InferenceImage } from '../data/index.js';
import { inferenceImageToTensor } from '../data/to-tensor.js';
import { softmaxRow, argmax, shouldReferToSpecialist } from '../eval/index.js';
import { heatMapOf, predictAndExplain, renderOverlay, type HeatMap, type PredictionOverlay } from '../explain/index.js';
import { cat, tidy, type Tensor } from '../torch/index.js';
import type { LoadedRun } from './load-run.js';

export type OverlayMethod = PredictionOverlay;
export const OVERLAY_METHODS: readonly OverlayMethod[] = ['attention', 'gradcam'];

/** A file path, raw bytes (named "<image N>"), or bytes with the name to report them under. */
export type PredictInput = string | Buffer | { name: string; bytes: Buffer };

export interface PredictOptions {
  withOverlays?: OverlayMethod[];
  /** Weight of the colour over the image in overlays, in [0, 1]. */
  opacity?: number;
  /** Overrides the run's referral threshold (calibrated top probability below it → refer). */
  threshold?: number;
  /** Images per forward pass. */
  batchSize?: number;
}

export interface ClassProbability {
  className: string;
  probability: number;
}

export interface ImagePrediction {
  file: string;
  ok: true;
  /** Calibrated probability of every class, in the run's class order. */
  probabilities: Record<string, number>;
  /** Classes by decreasing probability. */
  top: ClassProbability[];
  predicted: string;
  confidence: number;
  /** The top probability is below the threshold: a specialist should look rather than trust the label. */
  refer: boolean;
  overlays?: Partial<Record<OverlayMethod, Buffer>>;
}

export interface ImageFailure {
  file: string;
  ok: false;
  /** A stable code (e.g. 'corrupt', 'missing-file') and a message for people. */
  reason: string;
  error: string;
}

export type PredictResult = ImagePrediction | ImageFailure;

function inputName(input: PredictInput, index: number): string {
  if (typeof input === 'string') return input;
  return Buffer.isBuffer(input) ? `<image ${index + 1}>` : input.name;
}

function failureOf(file: string, error: unknown): ImageFailure {
  if (isDataError(error)) return { file, ok: false, reason: error.reason, error: error.message };
  return { file, ok: false, reason: 'error', error: `${file}: ${error instanceof Error ? error.message : String(error)}` };
}

interface LoadedInput {
  index: number;
  file: string;
  image: InferenceImage;
}

/** Loads a few images at a time: decoding is off the main thread in sharp, but memory is not free. */
async function loadInputs(run: LoadedRun, inputs: PredictInput[], results: PredictResult[]): Promise<LoadedInput[]> {
  const loaded: LoadedInput[] = [];
  const concurrency = 4;
  for (let start = 0; start < inputs.length; start += concurrency) {
    await Promise.all(inputs.slice(start, start + concurrency).map(async (input, offset) => {
      const index = start + offset;
      const file = inputName(input, index);
      try {
        const bytes = typeof input === 'string' || Buffer.isBuffer(input) ? input : input.bytes;
        loaded.push({ index, file, image: await loadImageForInference(bytes, run.inference) });
      } catch (error) {
        results[index] = failureOf(file, error);
      }
    }));
  }
  return loaded.sort((a, b) => a.index - b.index);
}

function checkProbability(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1)) throw new Error(`${name} must be in [0, 1], got ${value}`);
}

/** Predicts every input with the run's model, in input order. */
export async function predictImages(run: LoadedRun, inputs: PredictInput[], options: PredictOptions = {}): Promise<PredictResult[]> {
  const { withOverlays = [], opacity = 0.45, batchSize = 32 } = options;
  const threshold = options.threshold ?? run.calibration.referralThreshold;
  checkProbability('threshold', threshold);
  checkProbability('opacity', opacity);
  const device = run.model.parameters()[0]?.device ?? 'cpu';
  const results: PredictResult[] = new Array(inputs.length);
  const loaded = await loadInputs(run, inputs, results);
  const size = run.inference.preprocessing.size;

  for (let first = 0; first < loaded.length; first += batchSize) {
    const batch = loaded.slice(first, first + batchSize);
    const maps: Partial<Record<OverlayMethod, HeatMap[]>> = {};
    let logits: Float32Array;
    const x = tidy(() => cat(batch.map((item) => inferenceImageToTensor(item.image, device)), 0));
    try {
      const result = predictAndExplain(run.model, x, withOverlays);
      logits = result.logits;
      for (const method of withOverlays) maps[method] = heatMapsOf(result.maps[method]!, batch.length);
    } finally {
      x.dispose();
    }
    const numClasses = run.classNames.length;
    for (const [j, item] of batch.entries()) {
      const probs = softmaxRow(logits.subarray(j * numClasses, (j + 1) * numClasses), run.calibration.temperature);
      const best = argmax(probs);
      const prediction: ImagePrediction = {
        file: item.file,
        ok: true,
        probabilities: Object.fromEntries(run.classNames.map((name, k) => [name, probs[k]])),
        top: run.classNames.map((className, k) => ({ className, probability: probs[k] })).sort((a, b) => b.probability - a.probability),
        predicted: run.classNames[best],
        confidence: probs[best],
        refer: shouldReferToSpecialist(probs, threshold),
      };
      if (withOverlays.length > 0) {
        const picture = { data: item.image.pixels, width: size, height: size };
        prediction.overlays = {};
        for (const method of withOverlays) prediction.overlays[method] = await renderOverlay(picture, maps[method]![j], { opacity });
      }
      results[item.index] = prediction;
    }
  }
  return results;
}

/** Copies each image's map out of a [N, 1, H, W] tensor, then frees it. */
function heatMapsOf(maps: Tensor, count: number): HeatMap[] {
  try {
    return Array.from({ length: count }, (_, i) => heatMapOf(maps, i));
  } finally {
    maps.dispose();
  }
}
