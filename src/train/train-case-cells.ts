// The cells of each case as the case model reads them: one pass of the cell model over a split (no
// augmentation, no gradients) collects every cell's embedding and logits, then the cells are grouped
// into bags by patient. Only the label of the patient is used, never anything about the cell.
import type { DataLoader, DataSubset } from '../data/index.js';
import { batchToTensors } from '../data/to-tensor.js';
import { softmaxRow } from '../eval/index.js';
import { forwardRows, type AplNet } from '../model/index.js';
import { tidy } from '../torch/index.js';
import type { TtaMode } from './run-files.js';

export interface CellOutputs {
  paths: string[];
  /** Row-major [N, D]. */
  embeddings: Float32Array;
  /** Row-major [N, C]. */
  logits: Float32Array;
  embeddingDim: number;
  numClasses: number;
}

/**
 * Every cell's embedding and logits over an epoch of `loader` (sequential, no augmentation). With
 * `tta` 'on' each is the mean over the eight dihedral views of the cell, as the prediction core makes
 * them under test-time augmentation, so a case model trained on these reads at prediction time exactly
 * what the core computes.
 */
export async function collectCellOutputs(model: AplNet, loader: DataLoader, device: string, tta: TtaMode = 'off'): Promise<CellOutputs> {
  const wasTraining = model.training;
  model.eval();
  const embeddings: Float32Array[] = [];
  const logits: Float32Array[] = [];
  const paths: string[] = [];
  let embeddingDim = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      const out = tidy(() => forwardRows(model, batchToTensors(batch, device).x, { meanOfDihedralViews: tta === 'on' }));
      embeddingDim = out.embeddingSize;
      embeddings.push(out.embeddings);
      logits.push(out.logits);
      paths.push(...batch.paths);
    }
  } finally {
    model.train(wasTraining);
  }
  const join = (chunks: Float32Array[]) => {
    const flat = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) {
      flat.set(c, offset);
      offset += c.length;
    }
    return flat;
  };
  const numClasses = model.config.numClasses;
  const out = { paths, embeddings: join(embeddings), logits: join(logits), embeddingDim, numClasses };
  const bad = paths.filter((_, i) => !out.embeddings.subarray(i * embeddingDim, (i + 1) * embeddingDim).every(Number.isFinite) || !out.logits.subarray(i * numClasses, (i + 1) * numClasses).every(Number.isFinite));
  if (bad.length > 0) throw new Error(`the cell model's output is not a number (NaN or Inf) for ${bad.length} cell(s), e.g. ${bad.slice(0, 3).join(', ')}: the weights or these images are damaged; no case model is trained on them`);
  return out;
}

/** One case: its cells' embeddings and calibrated probabilities, and the patient's label. */
export interface CaseBag {
  id: string;
  /** Index of the case's class (the run's class order). */
  label: number;
  paths: string[];
  embeddings: Float32Array[];
  /** Each cell's calibrated probabilities (the cell model's, with the run's temperature). */
  cellProbabilities: Float64Array[];
}

/** A bag without the cells at `leftOut` (the bag itself when none is; null when no cell is left). */
export function bagWithout(bag: CaseBag, leftOut: ReadonlySet<string>): CaseBag | null {
  const keep = bag.paths.flatMap((path, i) => (leftOut.has(path) ? [] : [i]));
  if (keep.length === bag.paths.length) return bag;
  if (keep.length === 0) return null;
  return { ...bag, paths: keep.map((i) => bag.paths[i]), embeddings: keep.map((i) => bag.embeddings[i]), cellProbabilities: keep.map((i) => bag.cellProbabilities[i]) };
}

/**
 * Groups a split's cells into cases, in order of each case's first cell. `caseOf` gives a cell's
 * patient and the patient's label index; a cell without one is an error naming it.
 */
export function bagsOf(outputs: CellOutputs, caseOf: (path: string) => { id: string; label: number } | undefined, temperature: number): CaseBag[] {
  const bags = new Map<string, CaseBag>();
  const { embeddingDim: d, numClasses: c } = outputs;
  outputs.paths.forEach((path, i) => {
    const owner = caseOf(path);
    if (!owner) throw new Error(`${path} belongs to no case (no patient_id in the manifest)`);
    let bag = bags.get(owner.id);
    if (!bag) {
      bag = { id: owner.id, label: owner.label, paths: [], embeddings: [], cellProbabilities: [] };
      bags.set(owner.id, bag);
    }
    bag.paths.push(path);
    bag.embeddings.push(outputs.embeddings.slice(i * d, (i + 1) * d));
    bag.cellProbabilities.push(softmaxRow(outputs.logits.subarray(i * c, (i + 1) * c), temperature));
  });
  return [...bags.values()];
}

/** The images of one case as their own subset, so a loader can serve exactly that bag (fine-tuning). */
export function caseSubset(subset: DataSubset, paths: ReadonlySet<string>): DataSubset {
  const keep = subset.images.flatMap((image, i) => (paths.has(image.path) ? [i] : []));
  return { ...subset, images: keep.map((i) => subset.images[i]), labels: Int32Array.from(keep, (i) => subset.labels[i]) };
}
