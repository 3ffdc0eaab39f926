// `aplnet evaluate`: the run's test split (or another labelled dataset, read with the run's classes
// and preprocessing), measured before and after a temperature fitted on the run's validation split.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareDataset, readSource, saveSplitFile, type DataLoader, type PreparedDataset, type SkippedImage, type SplitFile, type SplitName } from '../data/index.js';
import {
  type CollectedLogits,
  applyTemperature,
  evaluateClassifier,
  evaluateWithTemperatureScaling,
  rowsFromFlat,
  type ClassifierReport,
  type LabelledLogits,
  type TemperatureFit,
} from '../eval/index.js';
import { collectLogitsInMode, DEFAULT_REFERRAL_THRESHOLD, DEFAULT_TTA, DISTILLATION_FILE, runPath, saveCalibration, type TtaMode } from '../train/index.js';
import { datasetOptionsOf } from './dataset-options.js';
import { evaluateEnsemble } from './ensemble-evaluate.js';
import { imagesLearnedFrom, refuseOverlap } from './ensemble-leakage.js';
import { requireCalibration, type LoadedRun } from './load-run.js';
import { calibratedTtaMode } from './tta-mode.js';

export interface EvaluateRunOptions {
  /** A labelled dataset to evaluate instead of the run's test split; every image of it is evaluated. */
  data?: string;
  cacheDir?: string;
  workers?: number;
  batchSize?: number;
  log?: (line: string) => void;
  /**
   * Test-time augmentation over the dihedral group; the temperature is refitted for it (and it becomes
   * the run's default). Default: the mode the run is calibrated for, else DEFAULT_TTA.
   */
  tta?: TtaMode;
  /**
   * How a split's logits are collected; default this process reads the whole split. A sharded
   * evaluate (sharded-evaluate.ts) passes one that scores this rank's blocks and gathers all ranks'.
   */
  collect?: (model: LoadedRun['model'], loader: DataLoader, device: string, tta: TtaMode) => Promise<CollectedLogits>;
  /** Save a refitted temperature to calibration.json (default true); ranks other than 0 of a sharded evaluate write nothing. */
  saveCalibration?: boolean;
}

/** What was evaluated, and how: the part of metrics.json that is not metrics. */
export interface EvaluatedSet {
  /** The dataset path and the split of it that was evaluated ('test', or 'all' for another dataset). */
  data: string;
  splitName: string;
  /** Images per class for each split of the dataset the numbers come from. */
  countsBySplit: Record<string, number[]>;
  patientsBySplit?: Record<string, number>;
  /** Every image of the evaluated split that could not be read, with its reason: not in the numbers. */
  skipped: SkippedImage[];
}

export interface RunEvaluation {
  set: EvaluatedSet;
  /** Where the temperature came from: 'val' when refitted now, else the saved calibration's origin. */
  temperatureSource: string;
  temperatureFit?: TemperatureFit;
  uncalibrated: ClassifierReport;
  calibrated: ClassifierReport;
  /** The evaluated images, in metrics order, with their calibrated probabilities (for the gallery). */
  images: { paths: string[]; labels: Int32Array; calibratedProbs: Float64Array[] };
}

const splitTitles: Record<SplitName, string> = { train: 'train', val: 'validation', test: 'test' };

/** Every image of `data` as one 'test' split, through a throw-away split file. */
export async function prepareAllAsTest(data: string, common: Omit<Parameters<typeof prepareDataset>[0], 'source' | 'split'>): Promise<PreparedDataset> {
  const source = await readSource(data, { classNames: common.classNames });
  const hasPatients = source.samples.some((sample) => sample.patientId !== undefined);
  const split: SplitFile = {
    version: 1,
    spec: { kind: 'manifest' },
    groupBy: hasPatients ? 'patient' : 'image',
    assignments: Object.fromEntries(source.samples.map((sample) => [sample.key, 'test' as const])),
  };
  const folder = mkdtempSync(join(tmpdir(), 'aplnet-eval-'));
  try {
    const path = join(folder, 'split.json');
    await saveSplitFile(path, split);
    return await prepareDataset({ ...common, source: data, split: { kind: 'file', path } });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** Patient id of every path, or undefined when the source has none. */
export type PatientIdsOf = (paths: string[]) => string[] | undefined;

/** Reads the source's patient ids once, for every split and set of logits of one evaluation. */
export async function patientIdLookup(data: string, classNames: string[]): Promise<PatientIdsOf> {
  const source = await readSource(data, { classNames });
  const byPath = new Map(source.samples.map((sample) => [sample.path, sample.patientId]));
  return (paths) => {
    const ids = paths.map((path) => byPath.get(path));
    return ids.every((id): id is string => id !== undefined) ? ids : undefined;
  };
}

export function datasetCounts(dataset: PreparedDataset, patientIdsOf: PatientIdsOf, splits: SplitName[]): Pick<EvaluatedSet, 'countsBySplit' | 'patientsBySplit'> {
  const countsBySplit: Record<string, number[]> = {};
  const patientsBySplit: Record<string, number> = {};
  let withPatients = true;
  for (const name of splits) {
    const subset = dataset.subset(name);
    const counts = new Array<number>(dataset.classNames.length).fill(0);
    for (const label of subset.labels) counts[label]++;
    countsBySplit[splitTitles[name]] = counts;
    const ids = patientIdsOf(subset.images.map((image) => image.path));
    if (ids) patientsBySplit[splitTitles[name]] = new Set(ids).size;
    else withPatients = false;
  }
  return withPatients ? { countsBySplit, patientsBySplit } : { countsBySplit };
}

/** Metrics over NaN would read as numbers; an evaluation with a non-finite output stops instead, naming the images. */
function assertFinite(logits: CollectedLogits, split: string): void {
  const bad = logits.paths.filter((_, i) => !logits.logits.subarray(i * logits.numClasses, (i + 1) * logits.numClasses).every(Number.isFinite));
  if (bad.length > 0) {
    throw new Error(`the model's output is not a number (NaN or Inf) for ${bad.length} ${split} image(s), e.g. ${bad.slice(0, 3).join(', ')}: the weights or these images are damaged; no metrics are computed`);
  }
}

export function labelledLogits(logits: CollectedLogits, patientIdsOf: PatientIdsOf, split: string): LabelledLogits {
  assertFinite(logits, split);
  return { logits: rowsFromFlat(logits.logits, logits.numClasses), labels: logits.labels, patientIds: patientIdsOf(logits.paths) };
}

/**
 * Evaluates a loaded run. The temperature is refitted on the run's validation split whenever the
 * training data is still there, and saved to calibration.json (atomically) so predict uses it.
 */
export async function evaluateRun(run: LoadedRun, device: string, options: EvaluateRunOptions = {}): Promise<RunEvaluation> {
  if (run.members) return evaluateEnsemble(run, device, options);
  const log = options.log ?? ((line: string) => console.error(line));
  const tta = options.tta ?? run.calibration?.tta ?? DEFAULT_TTA;
  const training = run.config.training;
  const batchSize = options.batchSize ?? Math.max(training.batch, 64);
  const common = datasetOptionsOf(run, options);
  const trainingDataThere = existsSync(training.data);
  if (!options.data && !trainingDataThere) {
    throw new Error(`the run's training data ${training.data} is not there any more, so its test split cannot be read; pass a labelled dataset to evaluate: aplnet evaluate ${run.dir} <data>`);
  }
  const loaderOptions = { batchSize, order: 'sequential' as const, seed: 0, augmentation: null };
  const collect = options.collect ?? collectLogitsInMode;
  const datasets: PreparedDataset[] = [];
  try {
    let validation: LabelledLogits | null = null;
    const ownPatientIds = trainingDataThere ? await patientIdLookup(training.data, run.classNames) : null;
    if (ownPatientIds) {
      log(`reading ${training.data} with the run's split …`);
      const own = await prepareDataset({ ...common, source: training.data, split: { kind: 'file', path: runPath(run.dir, 'split') } });
      datasets.push(own);
      if (own.subset('val').images.length > 0) {
        validation = labelledLogits(await collect(run.model, own.loader('val', loaderOptions), device, tta), ownPatientIds, 'validation');
      }
    }
    const data = options.data ?? training.data;
    if (options.data && existsSync(join(run.dir, DISTILLATION_FILE))) {
      // A distilled student learned from its teacher's answers on all of its own train and val images.
      refuseOverlap((await readSource(options.data, { classNames: run.classNames })).samples.map((s) => s.path), await imagesLearnedFrom(run), `${run.dir} (a distilled student) or its teacher`, options.data);
    }
    if (options.data) {
      log(`reading ${options.data} with the run's classes and preprocessing …`);
      datasets.push(await prepareAllAsTest(options.data, common));
    }
    const evaluated = datasets[datasets.length - 1];
    if (evaluated.subset('test').images.length === 0) throw new Error(`${data} has no test images to evaluate (split: ${evaluated.summary.perSplit.test} test images)`);
    if (!validation) calibratedTtaMode(run, tta);
    const testLogits = await collect(run.model, evaluated.loader('test', loaderOptions), device, tta);
    const patientIdsOf = options.data ? await patientIdLookup(options.data, run.classNames) : ownPatientIds!;
    const test = labelledLogits(testLogits, patientIdsOf, 'test');
    const threshold = run.calibration?.referralThreshold ?? DEFAULT_REFERRAL_THRESHOLD;
    const skipped = evaluated.summary.skippedImages.filter((image) => options.data || image.split === 'test');
    if (skipped.length > 0) log(`${skipped.length} image(s) of the evaluated split could not be read and are not in the metrics`);
    const set: EvaluatedSet = {
      data,
      splitName: options.data ? 'all' : 'test',
      skipped,
      ...datasetCounts(evaluated, patientIdsOf, options.data ? ['test'] : ['train', 'val', 'test']),
    };
    if (options.data) set.countsBySplit = { all: set.countsBySplit.test };
    if (options.data && set.patientsBySplit) set.patientsBySplit = { all: set.patientsBySplit.test };

    let result: Omit<RunEvaluation, 'images'>;
    if (validation) {
      const fitted = evaluateWithTemperatureScaling({ validation, test, classNames: run.classNames, referralThreshold: threshold });
      if (options.saveCalibration !== false) run.calibration = saveCalibration(run.dir, fitted.temperatureFit, threshold, run.weightsSha256, tta);
      result = { set, temperatureSource: 'val', ...fitted };
    } else {
      const saved = requireCalibration(run);
      log(`no validation images to fit a temperature on; using the saved one (T = ${saved.temperature}, fitted on ${saved.fittedOn})`);
      const common = { logits: test.logits, labels: test.labels, patientIds: test.patientIds, classNames: run.classNames, referralThreshold: threshold };
      result = {
        set,
        temperatureSource: saved.fittedOn,
        uncalibrated: evaluateClassifier({ ...common, temperature: 1 }),
        calibrated: evaluateClassifier({ ...common, temperature: saved.temperature }),
      };
    }
    const calibratedProbs = applyTemperature(test.logits, result.calibrated.temperature);
    return { ...result, images: { paths: testLogits.paths, labels: testLogits.labels, calibratedProbs } };
  } finally {
    for (const dataset of datasets) await dataset.close();
  }
}
