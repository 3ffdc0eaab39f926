// `aplnet evaluate` on an ensemble of folds. Each member's temperature is refitted on its own
// validation fold (in the asked TTA mode) and saved in its folder; the ensemble's probabilities are
// the mean of the members' calibrated ones. k-fold members together trained or validated on every
// image of their data, so there is no held-out test split: the evaluated images must come from
// another labelled dataset, and any of them that a member learned from stops the evaluation.
import { resolve } from 'node:path';
import { prepareDataset, readSource, type PreparedDataset } from '../data/index.js';
import { evaluateClassifier, fitTemperature, rowsFromFlat, type CollectedLogits, type Rows } from '../eval/index.js';
import { acquireRunLock } from '../io/index.js';
import { collectLogitsInMode, DEFAULT_CACHE_DIR, DEFAULT_TTA, runPath, saveCalibration, type TtaMode } from '../train/index.js';
import { meanCalibratedProbabilities } from './ensemble-pass.js';
import { imagesLearnedFrom, refuseOverlap } from './ensemble-leakage.js';
import { MEMBERS_CALIBRATION } from './ensemble-run.js';
import { datasetCounts, labelledLogits, patientIdLookup, prepareAllAsTest, type EvaluateRunOptions, type RunEvaluation } from './evaluate-run.js';
import type { LoadedRun } from './load-run.js';

function datasetOptions(member: LoadedRun, options: EvaluateRunOptions) {
  const training = member.config.training;
  return {
    classNames: member.classNames,
    preprocessing: member.inference.preprocessing,
    limits: member.inference.limits,
    stainNormalization: member.inference.stainNormalizer,
    channelStats: member.inference.channelStats,
    onBadImage: 'skip' as const,
    cacheDir: options.cacheDir ?? training.cacheDir ?? DEFAULT_CACHE_DIR,
    workers: options.workers ?? training.workers,
    seed: training.seed,
  };
}

/** Refits a member's temperature on its validation fold in mode `tta` and saves it in its folder (under its lock). */
async function refitMember(member: LoadedRun, tta: TtaMode, options: EvaluateRunOptions, log: (line: string) => void): Promise<void> {
  const lock = acquireRunLock(resolve(member.dir), 'evaluate (ensemble member)');
  let own: PreparedDataset | null = null;
  try {
    own = await prepareDataset({ ...datasetOptions(member, options), source: member.config.training.data, split: { kind: 'file', path: runPath(member.dir, 'split') } });
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

const rowsOf = (flat: Float64Array, classes: number): Rows => rowsFromFlat(flat, classes);

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
  const perMember: CollectedLogits[] = [];
  let evaluated: PreparedDataset | null = null;
  try {
    for (const member of members) {
      await evaluated?.close();
      evaluated = await prepareAllAsTest(data, datasetOptions(member, options));
      perMember.push(await collectLogitsInMode(member.model, evaluated.loader('test', { batchSize: options.batchSize ?? 64, order: 'sequential', seed: 0, augmentation: null }), device, tta));
    }
    const first = perMember[0];
    if (first.labels.length === 0) throw new Error(`${data} has no images to evaluate`);
    if (perMember.some((m) => m.paths.join('\n') !== first.paths.join('\n'))) throw new Error(`the members read different images of ${data} (one could not be read by another); evaluate again`);
    const patientIdsOf = await patientIdLookup(data, run.classNames);
    perMember.forEach((logits, m) => labelledLogits(logits, patientIdsOf, `test (member ${members[m].dir})`));
    const temperatures = members.map((member) => member.calibration!.temperature);
    const calibratedFlat = meanCalibratedProbabilities(perMember.map((m) => m.logits), temperatures, classes);
    const common = { labels: first.labels, patientIds: patientIdsOf(first.paths), classNames: run.classNames, referralThreshold: members[0].calibration!.referralThreshold };
    const uncalibrated = evaluateClassifier({ ...common, probs: rowsOf(meanCalibratedProbabilities(perMember.map((m) => m.logits), temperatures.map(() => 1), classes), classes) });
    const calibratedRows = rowsOf(calibratedFlat, classes);
    const calibrated = evaluateClassifier({ ...common, probs: calibratedRows });
    const counts = datasetCounts(evaluated!, patientIdsOf, ['test']);
    const set = {
      data,
      splitName: 'all',
      skipped: evaluated!.summary.skippedImages,
      countsBySplit: { all: counts.countsBySplit.test },
      ...(counts.patientsBySplit ? { patientsBySplit: { all: counts.patientsBySplit.test } } : {}),
    };
    run.calibration = { ...members[0].calibration!, temperature: 1, fittedOn: MEMBERS_CALIBRATION, nllBefore: null, nllAfter: null, weightsSha256: run.weightsSha256, tta };
    log(`ensemble of ${members.length}: mean of the members' calibrated probabilities (TTA ${tta})`);
    return { set, temperatureSource: MEMBERS_CALIBRATION, uncalibrated, calibrated, images: { paths: first.paths, labels: first.labels, calibratedProbs: calibratedRows.map((row) => Float64Array.from(row)) } };
  } finally {
    await evaluated?.close();
  }
}
