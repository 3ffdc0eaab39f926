// `aplnet evaluate` on an ensemble of folds. Each member's temperature is refitted on its own
// validation fold (in the asked TTA mode) and saved in its folder; the ensemble's probabilities are
// the mean of the members' calibrated ones. k-fold members together trained or validated on every
// image of their data, so there is no held-out test split: the evaluated images must come from
// another labelled dataset, and any of them that a member learned from stops the evaluation.
import { resolve } from 'node:path';
import { prepareDataset, readSource, type PreparedDataset, type SkippedImage } from '../data/index.js';
import { evaluateClassifier, fitTemperature, rowsFromFlat } from '../eval/index.js';
import { acquireRunLock } from '../io/index.js';
import { collectLogitsInMode, DEFAULT_TTA, runPath, saveCalibration, type TtaMode } from '../train/index.js';
import { meanCalibratedProbabilities } from './ensemble-pass.js';
import { imagesLearnedFrom, refuseOverlap } from './ensemble-leakage.js';
import { MEMBERS_CALIBRATION } from './ensemble-run.js';
import { datasetOptionsOf } from './dataset-options.js';
import { modelsOnDataset } from './ensemble-probabilities.js';
import { datasetCounts, labelledLogits, patientIdLookup, type EvaluateRunOptions, type RunEvaluation } from './evaluate-run.js';
import type { LoadedRun } from './load-run.js';

/** Refits a member's temperature on its validation fold in mode `tta` and saves it in its folder (under its lock). */
async function refitMember(member: LoadedRun, tta: TtaMode, options: EvaluateRunOptions, log: (line: string) => void): Promise<void> {
  const lock = acquireRunLock(resolve(member.dir), 'evaluate (ensemble member)');
  let own: PreparedDataset | null = null;
  try {
    own = await prepareDataset({ ...datasetOptionsOf(member, options), source: member.config.training.data, split: { kind: 'file', path: runPath(member.dir, 'split') } });
    const loader = own.loader('val', { batchSize: options.batchSize ?? 64, order: 'sequential', seed: 0, augmentation: null });
    const val = labelledLogits(await collectLogitsInMode(member.model, loader, member.model.parameters()[0]?.device ?? 'cpu', tta), () => undefined, 'validation');
    const fit = fitTemperature(val.logits, val.labels);
    member.calibration = saveCalibration(member.dir, fit, member.calibration?.referralThreshold ?? 0.7, member.weightsSha256, tta);
    log(`${member.dir}: T = ${fit.temperature.toFixed(3)} on its ${val.labels.length} validation images (TTA ${tta})`);
  } finally {
    await own?.close();
    lock.release();
  }
}

export async function evaluateEnsemble(run: LoadedRun, device: string, options: EvaluateRunOptions): Promise<RunEvaluation> {
  const log = options.log ?? ((line: string) => console.error(line));
  const members = run.members!;
  const data = options.data;
  if (!data) {
    throw new Error(`${run.dir} is an ensemble of ${members.length} folds of ${run.config.training.data}: together they trained or validated on every image of it, so it has no held-out test split. Evaluate it on a labelled dataset none of them saw: aplnet evaluate ${run.dir} <data>`);
  }
  const tta = options.tta ?? run.calibration?.tta ?? DEFAULT_TTA;
  const source = await readSource(data, { classNames: run.classNames });
  log(`checking that no member trained or validated on the images of ${data} …`);
  const learned = (await Promise.all(members.map(imagesLearnedFrom))).flat();
  refuseOverlap(source.samples.map((sample) => sample.path), learned, `the members of ${run.dir}`, data);

  for (const member of members) await refitMember(member, tta, options, log);
  const classes = run.classNames.length;
  let counts: ReturnType<typeof datasetCounts> | null = null;
  let skipped: SkippedImage[] = [];
  const patientIdsOf = await patientIdLookup(data, run.classNames);
  const { perModel, calibrated: calibratedFlat } = await modelsOnDataset(run, data, tta, options, (dataset) => {
    counts = datasetCounts(dataset, patientIdsOf, ['test']);
    skipped = dataset.summary.skippedImages;
  });
  const first = perModel[0];
  if (first.labels.length === 0) throw new Error(`${data} has no images to evaluate`);
  perModel.forEach((logits, m) => labelledLogits(logits, patientIdsOf, `test (member ${members[m].dir})`));
  const common = { labels: first.labels, patientIds: patientIdsOf(first.paths), classNames: run.classNames, referralThreshold: members[0].calibration!.referralThreshold };
  const uncalibrated = evaluateClassifier({ ...common, probs: rowsFromFlat(meanCalibratedProbabilities(perModel.map((m) => m.logits), members.map(() => 1), classes), classes) });
  const calibratedRows = rowsFromFlat(calibratedFlat, classes);
  const calibrated = evaluateClassifier({ ...common, probs: calibratedRows });
  const { countsBySplit, patientsBySplit } = counts!;
  const set = { data, splitName: 'all', skipped, countsBySplit: { all: countsBySplit.test }, ...(patientsBySplit ? { patientsBySplit: { all: patientsBySplit.test } } : {}) };
  run.calibration = { ...members[0].calibration!, temperature: 1, fittedOn: MEMBERS_CALIBRATION, nllBefore: null, nllAfter: null, weightsSha256: run.weightsSha256, tta };
  log(`ensemble of ${members.length}: mean of the members' calibrated probabilities (TTA ${tta})`);
  return { set, temperatureSource: MEMBERS_CALIBRATION, uncalibrated, calibrated, images: { paths: first.paths, labels: first.labels, calibratedProbs: calibratedRows } };
}
