// THE prediction core: image files or bytes → calibrated class probabilities, the referral flag and,
// on request, explanation maps. predict, serve, explain and the report all call this, so a user sees
// the same answer, under the same names, wherever they look. It fails closed: a non-finite output
// is never a call, and one bad image becomes a failure naming it without stopping the rest.
import { isDataError, loadImageForInference, type InferenceImage, type SkippedImage } from '../data/index.js';
import { inferenceImageToTensor } from '../data/to-tensor.js';
import { argmax, shouldReferToSpecialist, softmaxRow } from '../eval/index.js';
import { heatMapOf, type ExplainMethod, type HeatMap } from '../explain/index.js';
import { cat, tidy, type Tensor } from '../torch/index.js';
import type { TtaMode } from '../train/index.js';
import { answerBatch } from './ensemble-pass.js';
import { requireCalibration, requireOod, type LoadedRun } from './load-run.js';
import { oodCheckOf } from './ood-check.js';
import { calibratedTtaMode } from './tta-mode.js';

/** A file path, or bytes with the name to report them under. */
export type PredictInput = string | { name: string; bytes: Buffer };

export interface PredictOptions {
  /** Explanation maps to compute, by explain's method names. */
  maps?: readonly ExplainMethod[];
  /** Overrides the run's referral threshold (calibrated top probability below it → refer). */
  threshold?: number;
  /** Images per forward pass. */
  batchSize?: number;
  /**
   * Also return each image's embedding (what the head reads), for case models and OOD scores: under
   * TTA the mean over the eight views; for an ensemble the members' embeddings one after another.
   */
  embeddings?: boolean;
  /** Test-time augmentation over the dihedral group; default (and only) the mode the run is calibrated for. */
  tta?: TtaMode;
}

/** Why an image is referred rather than labelled. */
export type ReferralReason = 'low-confidence' | 'out-of-distribution';

export interface ImagePrediction {
  file: string;
  ok: true;
  /** Calibrated probability of every class, in the run's class order. */
  probabilities: Record<string, number>;
  predicted: string;
  confidence: number;
  /** A specialist should look rather than trust the label. */
  refer: boolean;
  referReason: ReferralReason | null;
  /** What preprocessing did to the file (e.g. converted from 16-bit, alpha dropped). */
  notes: string[];
  /** The image as the model saw it (cropped, resized, stain-normalised): RGB, HWC, side × side. */
  pixels: Uint8Array;
  side: number;
  /** The maps asked for, values in [0, 1] at the input's size. */
  maps: Partial<Record<ExplainMethod, HeatMap>>;
  /** The model's embedding of the image (length D), when asked for with `embeddings: true`. */
  embedding?: Float32Array;
  /** How unlike the training cells the image is; `flagged` images are set aside from a case's call and differential. */
  ood?: { score: number; threshold: number; flagged: boolean };
  /** What the run's case model reads for this cell (attachCaseEmbeddings), so a case can be summarised without the pixels. */
  caseEmbedding?: Float32Array;
}

export interface ImageFailure {
  file: string;
  ok: false;
  /** A stable code ('corrupt', 'missing-file', 'non-finite-output', …). */
  reason: string;
  /** For people: names the file and says what happened. */
  message: string;
}

export type PredictResult = ImagePrediction | ImageFailure;

function inputName(input: PredictInput): string {
  return typeof input === 'string' ? input : input.name;
}

/** An input the listing already found unreadable (a FIFO, a dangling link), as the failure it is. */
export function unreadableInput(skipped: SkippedImage): ImageFailure {
  return { file: skipped.file, ok: false, reason: skipped.reason, message: skipped.message };
}

function failureOf(file: string, error: unknown): ImageFailure {
  if (isDataError(error)) return { file, ok: false, reason: error.reason, message: error.message };
  return { file, ok: false, reason: 'error', message: `${file}: ${error instanceof Error ? error.message : String(error)}` };
}

interface LoadedInput {
  index: number;
  file: string;
  image: InferenceImage;
}

/** Decodes a few images at a time: decoding is off the main thread in sharp, but memory is not free. */
async function loadInputs(run: LoadedRun, inputs: readonly PredictInput[], results: PredictResult[]): Promise<LoadedInput[]> {
  const loaded: LoadedInput[] = [];
  const concurrency = 4;
  for (let start = 0; start < inputs.length; start += concurrency) {
    await Promise.all(inputs.slice(start, start + concurrency).map(async (input, offset) => {
      const index = start + offset;
      const file = inputName(input);
      try {
        loaded.push({ index, file, image: await loadImageForInference(typeof input === 'string' ? input : input.bytes, run.inference) });
      } catch (error) {
        results[index] = failureOf(file, error);
      }
    }));
  }
  return loaded.sort((a, b) => a.index - b.index);
}

function checkOptions(options: PredictOptions, threshold: number): void {
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`the referral threshold must be in [0, 1], got ${threshold}`);
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096) throw new Error(`the batch size must be an integer from 1 to 4096, got ${batchSize}`);
}

/** One image's result from its logits row, or a failure when the row is not finite. */
function predictionOf(run: LoadedRun, item: LoadedInput, logits: Float32Array, temperature: number, threshold: number): ImagePrediction | ImageFailure {
  if (!logits.every(Number.isFinite)) {
    return { file: item.file, ok: false, reason: 'non-finite-output', message: `${item.file}: the model's output is not a number (NaN or Inf), so no call is made; refer this image to a specialist and report the run folder ${run.dir}` };
  }
  const probs = softmaxRow(logits, temperature);
  const best = argmax(probs);
  const refer = shouldReferToSpecialist(probs, threshold);
  const side = run.inference.preprocessing.size;
  return {
    file: item.file,
    ok: true,
    probabilities: Object.fromEntries(run.classNames.map((name, k) => [name, probs[k]])),
    predicted: run.classNames[best],
    confidence: probs[best],
    refer,
    referReason: refer ? 'low-confidence' : null,
    notes: item.image.notes.map(String),
    pixels: item.image.pixels,
    side,
    maps: {},
  };
}

/** Records the check; a flagged image is referred and says why: it is set aside, not called with confidence. */
function setAsideIfOutOfDistribution(prediction: ImagePrediction, ood: NonNullable<ImagePrediction['ood']>): void {
  prediction.ood = ood;
  if (!ood.flagged) return;
  prediction.refer = true;
  prediction.referReason = 'out-of-distribution';
  prediction.notes.push(`does not look like the training images (out-of-distribution score ${ood.score.toFixed(2)} > ${ood.threshold.toFixed(2)}): set aside for review and left out of case calls; its label is not to be trusted`);
}

/** Predicts every input with the run's model, in input order. */
export async function predictImages(run: LoadedRun, inputs: readonly PredictInput[], options: PredictOptions = {}): Promise<PredictResult[]> {
  const calibration = requireCalibration(run);
  requireOod(run);
  const threshold = options.threshold ?? calibration.referralThreshold;
  checkOptions(options, threshold);
  const tta = calibratedTtaMode(run, options.tta);
  const methods = [...new Set(options.maps ?? [])];
  const batchSize = options.batchSize ?? 32;
  const device = run.model.parameters()[0]?.device ?? 'cpu';
  const results: PredictResult[] = new Array(inputs.length);
  const loaded = await loadInputs(run, inputs, results);
  const numClasses = run.classNames.length;

  for (let first = 0; first < loaded.length; first += batchSize) {
    const batch = loaded.slice(first, first + batchSize);
    const x = tidy(() => cat(batch.map((item) => inferenceImageToTensor(item.image, device)), 0));
    let logits: Float32Array;
    const maps: Partial<Record<ExplainMethod, HeatMap[]>> = {};
    let blanked: Partial<Record<ExplainMethod, boolean[]>> = {};
    let embeddings: Float32Array = new Float32Array(0);
    let embeddingSize = 0;
    try {
      const result = answerBatch(run, x, methods, tta);
      logits = result.logits;
      blanked = result.blanked;
      embeddings = result.embeddings;
      embeddingSize = result.embeddingSize;
      for (const method of methods) maps[method] = heatMapsOf(result.maps[method]!, batch.length);
    } finally {
      x.dispose();
    }
    batch.forEach((item, j) => {
      const outcome = predictionOf(run, item, logits.subarray(j * numClasses, (j + 1) * numClasses), calibration.temperature, threshold);
      if (outcome.ok) {
        setAsideIfOutOfDistribution(outcome, oodCheckOf(run, embeddings.subarray(j * embeddingSize, (j + 1) * embeddingSize), item.image));
        if (options.embeddings) outcome.embedding = embeddings.slice(j * embeddingSize, (j + 1) * embeddingSize);
        for (const method of methods) {
          outcome.maps[method] = maps[method]![j];
          if (blanked[method]?.[j]) outcome.notes.push(`the ${method} map was not finite (NaN or Inf) and is shown blank`);
        }
      }
      results[item.index] = outcome;
    });
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
