// The case model's call over a case's usable cells, from the prediction core's results: case
// probabilities and one attention weight per cell. The case model reads what it was trained on: one
// view's embedding from the cell model (a frozen encoder) or from its own fine-tuned encoder. The
// prediction core's embedding is reused when it is exactly that; otherwise the cells are embedded
// again from the pixels the model saw (normalised as at inference), so the answer never depends on
// which caller asked.
import { writeNormalizedChw, type InferencePreprocessing } from '../data/index.js';
import type { AplNet, CaseModel, CasePrediction } from '../model/index.js';
import { fromTypedArray, noGrad, tidy } from '../torch/index.js';
import type { ImagePrediction } from './predict-images.js';

const EMBED_BATCH = 32;

/** Embeddings of the cells' preprocessed pixels by `encoder` (one view, eval mode), in cell order. */
function embedPixels(encoder: AplNet, inference: InferencePreprocessing, cells: readonly ImagePrediction[]): Float32Array[] {
  const device = encoder.parameters()[0]?.device ?? 'cpu';
  const out: Float32Array[] = [];
  for (let first = 0; first < cells.length; first += EMBED_BATCH) {
    const batch = cells.slice(first, first + EMBED_BATCH);
    const side = batch[0].side;
    const plane = 3 * side * side;
    const x = new Float32Array(batch.length * plane);
    batch.forEach((cell, i) => writeNormalizedChw(cell.pixels, inference.channelStats, x, i * plane));
    const flat = tidy(() => noGrad(() => encoder.forward(fromTypedArray(x, [batch.length, 3, side, side]).to({ device })).embedding.to('float32').to('cpu').data<'float32'>()));
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

/** The case model's calibrated probabilities and cell weights for these cells (weights in their order). */
export function caseModelCall(run: CaseModelCallRun, caseModel: CaseModel, cells: readonly ImagePrediction[]): CasePrediction {
  const singleView = (run.calibration?.tta ?? 'off') === 'off';
  const reusable = caseModel.encoder === null && singleView && cells.every((cell) => cell.embedding !== undefined);
  const embeddings = reusable ? cells.map((cell) => cell.embedding!) : embedPixels(caseModel.encoder ?? run.model, run.inference, cells);
  return caseModel.predict(embeddings);
}
