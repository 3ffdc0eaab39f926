// ood.json and ood.safetensors: the out-of-distribution check a run's predictions carry. The JSON
// says what was fitted, how, and for which weights and TTA mode; the safetensors file holds the
// numbers (class means and precision matrices, too many for JSON) and is bound to the JSON by its
// digest. Reading checks both end to end and names the file and the way to refit in every error.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readJson, writeJsonAtomic } from '../io/index.js';
import { IMAGE_STATISTICS, OOD_METHOD, type ClassGaussians, type OodDetector, type OodFit } from '../eval/index.js';
import { fromTypedArray, loadSafetensors, saveSafetensors, type Tensor } from '../torch/index.js';
import { RUN_FILES, runPath, sha256OfFile, type TtaMode } from './run-files.js';

const positive = z.number().finite().positive();
const share = z.number().finite().min(0).max(1);
const count = z.number().int().min(1);
const OodRecordSchema = z.object({
  method: z.literal(OOD_METHOD),
  /** A combined score above it flags the image. */
  threshold: positive,
  /** The share of in-distribution validation images the threshold was fitted to flag (at most). */
  flagShare: share.max(0.5),
  /** The share it does flag there. */
  validationFlagged: share,
  scales: z.object({ embedding: positive, imageStats: positive }),
  shrinkage: z.object({ embedding: share, imageStats: share }),
  embeddingSize: count,
  /** Class means in the statistics file (classes with training images). */
  classMeans: count,
  imageStatistics: z.array(z.string()).refine((names) => JSON.stringify(names) === JSON.stringify(IMAGE_STATISTICS), 'not the statistics this version computes'),
  /** The output the embeddings were taken in: the mean of the 8 dihedral views ('on') or one view ('off'), as calibration.json's tta. */
  tta: z.enum(['on', 'off']),
  fittedOn: z.object({ statistics: z.literal('train'), threshold: z.literal('val') }),
  trainImages: count,
  validationImages: count,
  statisticsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  weightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export type OodRecord = z.infer<typeof OodRecordSchema>;

/** The check as a loaded run carries it: the record and the detector built from the statistics file. */
export interface LoadedOod {
  record: OodRecord;
  detector: OodDetector;
}

export interface OodFitInfo {
  flagShare: number;
  tta: TtaMode;
  trainImages: number;
  validationImages: number;
}

const f64 = (values: Float64Array, shape: number[]): Tensor => fromTypedArray(values, shape, { dtype: 'float64' });

function concat(rows: Float64Array[]): Float64Array {
  const out = new Float64Array(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const row of rows) {
    out.set(row, offset);
    offset += row.length;
  }
  return out;
}

/** Writes ood.safetensors, then ood.json naming its digest (both atomically): a kill between leaves a pair that is refused, never a mixed one. */
export function saveOod(runDir: string, fit: OodFit, info: OodFitInfo, weightsSha256: string): OodRecord {
  const { embedding, imageStats } = fit.detector;
  const d = embedding.dim;
  const s = imageStats.gaussian.dim;
  const tensors: Record<string, Tensor> = {
    embedding_means: f64(concat(embedding.means), [embedding.means.length, d]),
    embedding_precision: f64(embedding.precision.values, [d, d]),
    stats_mean: f64(imageStats.mean, [s]),
    stats_sd: f64(imageStats.sd, [s]),
    stats_centre: f64(imageStats.gaussian.means[0], [1, s]),
    stats_precision: f64(imageStats.gaussian.precision.values, [s, s]),
  };
  const path = runPath(runDir, 'oodStatistics');
  try {
    saveSafetensors(path, tensors, { 'aplnet.ood.method': OOD_METHOD });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
  const record = OodRecordSchema.parse({
    method: OOD_METHOD,
    threshold: fit.detector.threshold,
    flagShare: info.flagShare,
    validationFlagged: fit.validationFlagged,
    scales: fit.detector.scales,
    shrinkage: { embedding: embedding.shrinkage, imageStats: imageStats.gaussian.shrinkage },
    embeddingSize: d,
    classMeans: embedding.means.length,
    imageStatistics: [...IMAGE_STATISTICS],
    tta: info.tta,
    fittedOn: { statistics: 'train', threshold: 'val' },
    trainImages: info.trainImages,
    validationImages: info.validationImages,
    statisticsSha256: sha256OfFile(path),
    weightsSha256,
  });
  writeJsonAtomic(runPath(runDir, 'ood'), record);
  return record;
}

function refitAdvice(runDir: string): string {
  return `refit it with "aplnet evaluate ${runDir}" (or "aplnet train <data> --out ${runDir} --resume" for an interrupted run)`;
}

/**
 * Reads ood.json and ood.safetensors for the weights with digest `weightsSha256`. A missing file, a
 * value out of range, statistics that are not the ones recorded, or a check fitted for other
 * weights or another TTA mode is an error naming the file and saying how to refit.
 */
export function readOod(runDir: string, weightsSha256: string, tta: TtaMode): LoadedOod {
  const path = runPath(runDir, 'ood');
  const refit = refitAdvice(runDir);
  const raw = readJson(path, `the run has no out-of-distribution check, so an image that is not a cell would be classified like one; ${refit}`);
  const parsed = OodRecordSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new Error(`${path} is not a valid out-of-distribution record (${problems}); it was edited or damaged; ${refit}`);
  }
  const record = parsed.data;
  if (record.weightsSha256 !== weightsSha256) throw new Error(`${path} was fitted for other weights than ${RUN_FILES.bestWeights} (the weights changed after it was fitted); ${refit}`);
  if (record.tta !== tta) throw new Error(`${path} was fitted with test-time augmentation ${record.tta}, but the run is calibrated for ${tta}; ${refit}`);
  const statsPath = runPath(runDir, 'oodStatistics');
  if (!existsSync(statsPath)) throw new Error(`${statsPath} is missing, but ${path} records it; ${refit}`);
  if (sha256OfFile(statsPath) !== record.statisticsSha256) throw new Error(`${statsPath} does not match the digest recorded in ${path} (fitting was interrupted, or the file was replaced or damaged); ${refit}`);
  let tensors: Map<string, Tensor>;
  try {
    tensors = loadSafetensors(statsPath, 'cpu', { requireChecksum: true }).tensors;
  } catch (err) {
    throw new Error(`${(err as Error).message.includes(statsPath) ? '' : `${statsPath}: `}${(err as Error).message}; ${refit}`);
  }
  try {
    return { record, detector: detectorOf(tensors, record, statsPath, refit) };
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

function detectorOf(tensors: Map<string, Tensor>, record: OodRecord, path: string, refit: string): OodDetector {
  const d = record.embeddingSize;
  const s = IMAGE_STATISTICS.length;
  const k = record.classMeans;
  const take = (name: string, shape: number[]): Float64Array => {
    const t = tensors.get(name);
    if (!t || t.dtype !== 'float64' || JSON.stringify(t.shape) !== JSON.stringify(shape)) {
      throw new Error(`${path}: ${name} should be float64 of shape [${shape}], found ${t ? `${t.dtype} [${t.shape}]` : 'nothing'}; ${refit}`);
    }
    const values = Float64Array.from(t.data() as Float64Array);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${path}: ${name} holds ${values[bad]} at element ${bad}; ${refit}`);
    return values;
  };
  const rowsOf = (values: Float64Array, width: number) => Array.from({ length: values.length / width }, (_, i) => values.slice(i * width, (i + 1) * width));
  const embedding: ClassGaussians = { dim: d, means: rowsOf(take('embedding_means', [k, d]), d), precision: { n: d, values: take('embedding_precision', [d, d]) }, shrinkage: record.shrinkage.embedding };
  const gaussian: ClassGaussians = { dim: s, means: [take('stats_centre', [1, s])], precision: { n: s, values: take('stats_precision', [s, s]) }, shrinkage: record.shrinkage.imageStats };
  const sd = take('stats_sd', [s]);
  if (sd.some((v) => !(v > 0))) throw new Error(`${path}: stats_sd holds a value that is not positive; ${refit}`);
  return { embedding, imageStats: { mean: take('stats_mean', [s]), sd, gaussian }, scales: record.scales, threshold: record.threshold };
}

/** Whether the run's out-of-distribution check is there, valid, and fitted for the current weights and mode. */
export function oodIsCurrent(runDir: string, tta: TtaMode): boolean {
  try {
    readOod(runDir, sha256OfFile(runPath(runDir, 'bestWeights')), tta);
    return true;
  } catch {
    return false;
  }
}
