// The out-of-distribution check, picked by measurement (bench/ood-compare.ts on the validation
// split: the max-softmax and energy scores call noise and blank fields confidently, the
// Mahalanobis scores do not): two independent parts, each fitted on the training split, and the
// larger of the two counts.
// - embedding: squared Mahalanobis distance of the L2-normalised embedding (what the head reads)
//   to the nearest class mean, shared Ledoit–Wolf covariance (Lee et al. 2018);
// - imageStats: squared Mahalanobis distance of the image's colour and texture statistics to the
//   training images' — a check that does not depend on what the network learned.
// Each part is divided by its own scale (its 99th percentile on validation images) so both read
// "1 = as unusual as the 1% most unusual validation images"; the threshold on the larger of the
// two is fitted on the validation split to flag a stated share of in-distribution images.
import { fitClassGaussians, nearestClassMahalanobis, type ClassGaussians } from './ood-gaussian.js';
import { flaggedShare, fitOodThreshold } from './ood-threshold.js';

export const OOD_METHOD = 'mahalanobis-l2+image-stats';

/** A statistic's training sd is floored at this (1% for shares): a statistic constant in training still counts, but not infinitely. */
const STATISTIC_SD_FLOOR = 0.01;

export interface OodDetector {
  embedding: ClassGaussians;
  imageStats: { mean: Float64Array; sd: Float64Array; gaussian: ClassGaussians };
  scales: { embedding: number; imageStats: number };
  threshold: number;
}

/** What the fit reads for a split: row-major embeddings and image statistics, and class labels. */
export interface OodFitSplit {
  embeddings: ArrayLike<number>;
  embeddingSize: number;
  imageStats: ArrayLike<number>;
  statisticsCount: number;
  labels: ArrayLike<number>;
}

export interface OodFit {
  detector: OodDetector;
  /** The combined score of every validation image. */
  validationScores: Float64Array;
  /** The share of validation images the threshold flags (at most the asked share). */
  validationFlagged: number;
}

function normalised(embedding: ArrayLike<number>): Float64Array {
  let norm = 0;
  for (let i = 0; i < embedding.length; i++) norm += embedding[i] * embedding[i];
  norm = Math.sqrt(norm) || 1;
  return Float64Array.from(embedding, (v) => v / norm);
}

function standardised(stats: ArrayLike<number>, mean: Float64Array, sd: Float64Array): Float64Array {
  return Float64Array.from(mean, (m, i) => (stats[i] - m) / sd[i]);
}

/** Each part's raw score: the squared distances before scaling. */
export function oodPartScores(detector: OodDetector, embedding: ArrayLike<number>, stats: ArrayLike<number>): { embedding: number; imageStats: number } {
  const { mean, sd, gaussian } = detector.imageStats;
  return {
    embedding: nearestClassMahalanobis(detector.embedding, normalised(embedding)),
    imageStats: nearestClassMahalanobis(gaussian, standardised(stats, mean, sd)),
  };
}

/** The combined score: larger means less like the training images; above detector.threshold is flagged. NaN input gives NaN. */
export function oodScore(detector: OodDetector, embedding: ArrayLike<number>, stats: ArrayLike<number>): number {
  const parts = oodPartScores(detector, embedding, stats);
  return Math.max(parts.embedding / detector.scales.embedding, parts.imageStats / detector.scales.imageStats);
}

function rows(flat: ArrayLike<number>, width: number): ArrayLike<number>[] {
  return Array.from({ length: flat.length / width }, (_, i) => Array.prototype.slice.call(flat, i * width, (i + 1) * width) as number[]);
}

/** Fits both parts on `train`, their scales and the threshold on `validation`, so that at most `flagShare` of validation images are flagged. */
export function fitOodDetector(train: OodFitSplit, validation: OodFitSplit, numClasses: number, flagShare: number): OodFit {
  if (train.labels.length === 0) throw new Error('fitOodDetector: no training images to fit the out-of-distribution statistics on');
  if (validation.labels.length === 0) throw new Error('fitOodDetector: no validation images to fit the out-of-distribution threshold on');
  const trainEmbeddings = rows(train.embeddings, train.embeddingSize).map(normalised);
  const embedding = fitClassGaussians(concat(trainEmbeddings), train.labels, train.embeddingSize, numClasses);
  const trainStats = rows(train.imageStats, train.statisticsCount);
  const width = train.statisticsCount;
  const mean = new Float64Array(width);
  const sd = new Float64Array(width);
  for (const row of trainStats) for (let i = 0; i < width; i++) mean[i] += row[i] / trainStats.length;
  for (const row of trainStats) for (let i = 0; i < width; i++) sd[i] += (row[i] - mean[i]) ** 2 / trainStats.length;
  for (let i = 0; i < width; i++) sd[i] = Math.max(Math.sqrt(sd[i]), STATISTIC_SD_FLOOR);
  const gaussian = fitClassGaussians(concat(trainStats.map((row) => standardised(row, mean, sd))), new Int32Array(trainStats.length), width, 1);
  const unscaled: OodDetector = { embedding, imageStats: { mean, sd, gaussian }, scales: { embedding: 1, imageStats: 1 }, threshold: Infinity };
  const valEmbeddings = rows(validation.embeddings, validation.embeddingSize);
  const valStats = rows(validation.imageStats, validation.statisticsCount);
  const parts = valEmbeddings.map((e, i) => oodPartScores(unscaled, e, valStats[i]));
  const scaleOf = (values: number[]) => Math.max(fitOodThreshold(values, 0.01), Number.EPSILON);
  const scales = { embedding: scaleOf(parts.map((p) => p.embedding)), imageStats: scaleOf(parts.map((p) => p.imageStats)) };
  const validationScores = Float64Array.from(parts, (p) => Math.max(p.embedding / scales.embedding, p.imageStats / scales.imageStats));
  const threshold = fitOodThreshold(validationScores, flagShare);
  return { detector: { ...unscaled, scales, threshold }, validationScores, validationFlagged: flaggedShare(validationScores, threshold) };
}

function concat(rowsOf: ArrayLike<number>[]): Float64Array {
  const width = rowsOf[0]?.length ?? 0;
  const out = new Float64Array(rowsOf.length * width);
  rowsOf.forEach((row, i) => out.set(row, i * width));
  return out;
}
