// The case model's call over a case's usable cells, from the prediction core's results: case
// probabilities and one attention weight per cell. The case model reads what it was trained on: the
// embedding from the cell model (a frozen encoder) or from its own fine-tuned encoder, of one view of
// the cell or the mean of its eight dihedral views (the case model's embeddingViews). The prediction
// core's embedding is reused when it is exactly that; otherwise the cells are embedded again from the
// pixels the model saw (normalised as at inference), so the answer never depends on which caller
// asked. A caller that drops the pixels (the web page keeps calls, not images) attaches the case
// embeddings first.
import { writeNormalizedChw, type InferencePreprocessing } from '../data/index.js';
import { forwardRows, type AplNet, type CaseModel, type CasePrediction } from '../model/index.js';
import { fromTypedArray, tidy } from '../torch/index.js';
import type { ImagePrediction, PredictResult } from './predict-images.js';

const EMBED_BATCH = 32;

/** Embeddings of the cells' preprocessed pixels by `encoder` (eval mode; one view or the mean of the eight), in cell order. */
function embedPixels(encoder: AplNet, inference: InferencePreprocessing, cells: readonly ImagePrediction[], views: 1 | 8): Float32Array[] {
  const missing = cells.find((cell) => cell.side < 1 || cell.pixels.length !== 3 * cell.side * cell.side);
  if (missing) throw new Error(`${missing.file}: the case model reads an embedding of the cell's pixels, but this result carries no pixels; attach the case embeddings (attachCaseEmbeddings) before the pixels are dropped`);
  const device = encoder.parameters()[0]?.device ?? 'cpu';
  const out: Float32Array[] = [];
  for (let first = 0; first < cells.length; first += EMBED_BATCH) {
    const batch = cells.slice(first, first + EMBED_BATCH);
    const side = batch[0].side;
    const plane = 3 * side * side;
    const x = new Float32Array(batch.length * plane);
    batch.forEach((cell, i) => writeNormalizedChw(cell.pixels, inference.channelStats, x, i * plane));
    const flat = tidy(() => forwardRows(encoder, fromTypedArray(x, [batch.length, 3, side, side]).to({ device }), { meanOfDihedralViews: views === 8 }).embeddings);
    const d = flat.length / batch.length;
    for (let i = 0; i < batch.length; i++) out.push(flat.slice(i * d, (i + 1) * d));
  }
  return out;
}

export interface CaseModelCallRun {
  model: AplNet;
  inference: InferencePreprocessing;
  /** Whether the prediction core's embeddings are one view ('off') or the mean of eight (TTA 'on'). */
  calibration: { tta?: 'on' | 'off' } | null;
}

/** The embedding the case model reads for each cell, in order. */
function caseEmbeddings(run: CaseModelCallRun, caseModel: CaseModel, cells: readonly ImagePrediction[]): Float32Array[] {
  if (cells.every((cell) => cell.caseEmbedding !== undefined)) return cells.map((cell) => cell.caseEmbedding!);
  const coreViews = (run.calibration?.tta ?? 'off') === 'on' ? 8 : 1;
  if (caseModel.encoder === null && coreViews === caseModel.embeddingViews && cells.every((cell) => cell.embedding !== undefined)) return cells.map((cell) => cell.embedding!);
  return embedPixels(caseModel.encoder ?? run.model, run.inference, cells, caseModel.embeddingViews);
}

/** The case model's calibrated probabilities and cell weights for these cells (weights in their order). */
export function caseModelCall(run: CaseModelCallRun, caseModel: CaseModel, cells: readonly ImagePrediction[]): CasePrediction {
  return caseModel.predict(caseEmbeddings(run, caseModel, cells));
}

/**
 * Sets `caseEmbedding` on every prediction: what the run's case model reads for it. Nothing to do
 * for a run without a case model. Call it while the results still carry their pixels.
 */
export function attachCaseEmbeddings(run: CaseModelCallRun & { caseLevel?: { model?: CaseModel | null } | null }, results: readonly PredictResult[]): void {
  const caseModel = run.caseLevel?.model;
  if (!caseModel) return;
  const cells = results.filter((result): result is ImagePrediction => result.ok);
  caseEmbeddings(run, caseModel, cells).forEach((embedding, i) => (cells[i].caseEmbedding = embedding));
}
