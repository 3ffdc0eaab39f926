// The last step of training: the softmax temperature fitted on the validation split and saved as
// calibration.json for exactly the best weights, so predict and serve give calibrated probabilities.
import { collectLogits, fitTemperature, rowsFromFlat } from '../eval/index.js';
import type { PreparedDataset } from '../data/index.js';
import type { AplNet } from '../model/index.js';
import { DEFAULT_REFERRAL_THRESHOLD, readCalibration, runPath, saveCalibration, sha256OfFile } from './run-files.js';

/** Whether calibration.json is there, valid, and fitted for the current best weights. */
export function calibrationIsCurrent(runDir: string): boolean {
  try {
    readCalibration(runDir, sha256OfFile(runPath(runDir, 'bestWeights')));
    return true;
  } catch {
    return false;
  }
}

/** Fits the softmax temperature on the validation split (calibration.json), used by predict and serve. */
export async function calibrateOnValidation(model: AplNet, dataset: PreparedDataset, device: string, runDir: string, batch: number, log: (l: string) => void): Promise<void> {
  const val = await collectLogits(model, dataset.loader('val', { batchSize: Math.max(batch, 64), order: 'sequential', seed: 0, augmentation: null }), device);
  const fit = fitTemperature(rowsFromFlat(val.logits, val.numClasses), val.labels);
  saveCalibration(runDir, fit, DEFAULT_REFERRAL_THRESHOLD, sha256OfFile(runPath(runDir, 'bestWeights')));
  log(`temperature scaling on ${val.labels.length} validation images: T = ${fit.temperature.toFixed(3)}, NLL ${fit.nllBefore.toFixed(4)} → ${fit.nllAfter.toFixed(4)}`);
}

