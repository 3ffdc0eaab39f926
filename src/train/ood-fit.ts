// Fitting the out-of-distribution check, beside the temperature: its statistics on the training
// split, its threshold on the validation split, in the TTA mode the run is calibrated for (so the
// embeddings are the ones predict will score), written as ood.json + ood.safetensors.
import type { PreparedDataset } from '../data/index.js';
import { collectOodInputs, fitOodDetector, IMAGE_STATISTICS, type OodInputs } from '../eval/index.js';
import type { AplNet } from '../model/index.js';
import { saveOod, type OodRecord } from './ood-run-file.js';
import { runPath, sha256OfFile, type TtaMode } from './run-files.js';

/**
 * The share of in-distribution validation images the threshold is fitted to flag. 2%: a case of
 * 100–200 cells then loses 2–4 cells to review (a glance each, and the case call barely moves),
 * and the threshold rests on 7 of 360 validation images rather than 3 or 4 at 1%; measured on the
 * pbc-8class validation split it still catches every blank, noise and photo image (README).
 */
export const DEFAULT_OOD_FLAG_SHARE = 0.02;

function splitInputs(inputs: OodInputs) {
  return { embeddings: inputs.embeddings, embeddingSize: inputs.embeddingSize, imageStats: inputs.imageStats, statisticsCount: IMAGE_STATISTICS.length, labels: inputs.labels };
}

/**
 * Fits and saves the check for the model's current weights (those in the run's model.safetensors).
 * `validation`: the validation split's inputs when the caller already collected them in this mode.
 */
export async function fitOodOnSplits(model: AplNet, dataset: PreparedDataset, device: string, runDir: string, batch: number, tta: TtaMode, log: (line: string) => void, { flagShare = DEFAULT_OOD_FLAG_SHARE, validation }: { flagShare?: number; validation?: OodInputs } = {}): Promise<OodRecord> {
  const loader = (split: 'train' | 'val') => dataset.loader(split, { batchSize: Math.max(batch, 64), order: 'sequential', seed: 0, augmentation: null });
  const options = { meanOfDihedralViews: tta === 'on' };
  const train = await collectOodInputs(model, loader('train'), device, options);
  const val = validation ?? (await collectOodInputs(model, loader('val'), device, options));
  const fit = fitOodDetector(splitInputs(train), splitInputs(val), model.config.numClasses, flagShare);
  const record = saveOod(runDir, fit, { flagShare, tta, trainImages: train.labels.length, validationImages: val.labels.length }, sha256OfFile(runPath(runDir, 'bestWeights')));
  log(`out-of-distribution check (${record.method}) fitted on ${train.labels.length} training images; threshold ${record.threshold.toFixed(3)} flags ${(record.validationFlagged * 100).toFixed(1)}% of ${val.labels.length} validation images (asked: at most ${(flagShare * 100).toFixed(0)}%)`);
  return record;
}
