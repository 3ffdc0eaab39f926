// The last step of training: the softmax temperature fitted on the validation split and saved as
// calibration.json for exactly the best weights, so predict and serve give calibrated probabilities.
// A temperature calibrates one kind of output: the mean of the eight dihedral views' logits
// (test-time augmentation) is more confident than one view's, so calibration.json records which
// one it was fitted for, and a run is used in that mode unless refitted for the other.
// The out-of-distribution check is fitted here too, in the same mode (ood-fit.ts): a run is
// calibrated when both are current for its weights.
import type { DataLoader } from '../data/index.js';
import { batchToTensors } from '../data/to-tensor.js';
import { collectLogits, collectOodInputs, fitTemperature, rowsFromFlat, type CollectedLogits } from '../eval/index.js';
import type { PreparedDataset } from '../data/index.js';
import { forwardRows, type AplNet } from '../model/index.js';
import { tidy } from '../torch/index.js';
import { fitOodOnSplits } from './ood-fit.js';
import { oodIsCurrent } from './ood-run-file.js';
import { DEFAULT_REFERRAL_THRESHOLD, readCalibration, runPath, saveCalibration, sha256OfFile, type TtaMode } from './run-files.js';

/** The mode a new run is calibrated for, so the mode predict, evaluate and serve use unless told otherwise. */
export const DEFAULT_TTA: TtaMode = 'on';

/** Whether calibration.json and the out-of-distribution check are there, valid, and fitted for the current best weights. */
export function calibrationIsCurrent(runDir: string): boolean {
  try {
    const calibration = readCalibration(runDir, sha256OfFile(runPath(runDir, 'bestWeights')));
    return oodIsCurrent(runDir, calibration.tta);
  } catch {
    return false;
  }
}

/** A loader's logits in a mode: one view, or the mean over the eight dihedral views of each image. */
export async function collectLogitsInMode(model: AplNet, loader: DataLoader, device: string, tta: TtaMode): Promise<CollectedLogits> {
  if (tta === 'off') return collectLogits(model, loader, device);
  const wasTraining = model.training;
  model.eval();
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  const paths: string[] = [];
  const numClasses = model.config.numClasses;
  try {
    for await (const batch of loader.epoch(0)) {
      chunks.push(tidy(() => forwardRows(model, batchToTensors(batch, device).x, { meanOfDihedralViews: true }).logits));
      labels.push(...batch.y);
      paths.push(...batch.paths);
    }
  } finally {
    model.train(wasTraining);
  }
  const flat = new Float32Array(labels.length * numClasses);
  chunks.reduce((offset, chunk) => (flat.set(chunk, offset), offset + chunk.length), 0);
  return { logits: flat, labels: Int32Array.from(labels), paths, numClasses };
}

/** Fits the softmax temperature on the validation split (calibration.json) and the out-of-distribution check (ood.json), used by predict and serve. */
export async function calibrateOnValidation(model: AplNet, dataset: PreparedDataset, device: string, runDir: string, batch: number, log: (l: string) => void, tta: TtaMode = DEFAULT_TTA): Promise<void> {
  // One pass gives the logits for the temperature and the embeddings for the OOD check, in the same mode.
  const val = await collectOodInputs(model, dataset.loader('val', { batchSize: Math.max(batch, 64), order: 'sequential', seed: 0, augmentation: null }), device, { meanOfDihedralViews: tta === 'on' });
  const fit = fitTemperature(rowsFromFlat(val.logits, val.numClasses), val.labels);
  saveCalibration(runDir, fit, DEFAULT_REFERRAL_THRESHOLD, sha256OfFile(runPath(runDir, 'bestWeights')), tta);
  log(`temperature scaling on ${val.labels.length} validation images${tta === 'on' ? ' (mean of the 8 dihedral views)' : ''}: T = ${fit.temperature.toFixed(3)}, NLL ${fit.nllBefore.toFixed(4)} → ${fit.nllAfter.toFixed(4)}`);
  await fitOodOnSplits(model, dataset, device, runDir, batch, tta, log, { validation: val });
}
