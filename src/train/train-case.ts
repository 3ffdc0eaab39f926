// `aplnet train-case RUN`: a case model for a run whose labels belong to the patient. The bags are
// the patients of the run's train and validation splits: by default the case model is
// cross-validated over them (DEFAULT_CASE_FOLDS: each fold's epochs chosen on another fold, its
// temperature and referral threshold on the out-of-fold calls); the baseline is chosen on the
// validation patients; with --folds 1 or a fine-tuned encoder the model trains on the train split
// and every choice is made on the validation patients. The test patients are never read.
// Only `path`, `label`, `patient_id` and `split` of the manifest are read: a cell's own type, where
// a manifest has one, is never seen. The run lock is held throughout; the case model and
// case-level.json are written atomically, the record last, so an interrupted run keeps the previous
// record (which then refuses the new file by its digest) and simply trains again.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { prepareDataset, readSource, type InferencePreprocessing, type PreparedDataset, type SplitName } from '../data/index.js';
import { argmax, CASE_BASELINES, caseBaselineCall, caseMetrics, fitCaseReferralThreshold, softmaxRow, type CaseBaseline } from '../eval/index.js';
import { acquireRunLock, removeStaleTempFiles } from '../io/index.js';
import { createModel, type AplNet, type CaseEncoder } from '../model/index.js';
import { manualSeed } from '../torch/index.js';
import { caseTemperature } from './case-temperature.js';
import { disposeFolds, outOfFoldLogits, trainCaseFolds } from './case-cross-validation.js';
import { sourceCases, writeCaseLevel, type CaseLevelRecord, type CaseReferral, type CaseSplitScores } from './case-level.js';
import { embeddingSize, saveCaseModelFile } from './case-level-model.js';
import { DEFAULT_CACHE_DIR, DEFAULT_REFERRAL_THRESHOLD, RUN_FILES, runPath, type Calibration, type RunConfig, type TtaMode } from './run-files.js';
import { bagsOf, collectCellOutputs, type CaseBag } from './train-case-cells.js';
import { fineTuneCaseModel, FINE_TUNE_DEFAULTS, type FineTuneOptions } from './train-case-fine-tune.js';
import { CASE_HEAD_DEFAULTS, DEFAULT_CASE_HEADS, ensembleLogitsOfBags, trainCaseHeads, type CaseEpoch, type CaseHeadOptions, type TrainedCaseHead } from './train-case-head.js';

/** What train-case needs of a loaded run (run/load-run's LoadedRun has all of it). */
export interface CellRun {
  dir: string;
  config: RunConfig;
  classNames: string[];
  inference: InferencePreprocessing;
  model: AplNet;
  calibration: Calibration | null;
  weightsSha256: string;
}

/**
 * The encoder train-case uses unless told: measured on pbc-cases (README, "Cases"), the frozen
 * encoder's validation cases were as well called as the fine-tuned one's, at a fraction of the time.
 */
export const DEFAULT_CASE_ENCODER: CaseEncoder = 'frozen';

export interface CaseData {
  dataset: PreparedDataset;
  /** Patient id and label index of a cell path. */
  caseOf: (path: string) => { id: string; label: number } | undefined;
  bags: Record<SplitName, CaseBag[]>;
  /** The run's cell temperature, with which the cells' probabilities (for the baselines) are calibrated. */
  cellTemperature: number;
  embeddingDim: number;
  /** Views each cell's embedding (and probabilities) average: 8 under test-time augmentation, else 1. */
  embeddingViews: 1 | 8;
}

export interface CaseDataOptions {
  /** The case-labelled manifest; default the run's training data (with the run's saved split). */
  data?: string;
  cacheDir?: string;
  workers?: number;
  device?: string;
  /** Splits whose cells are embedded (default all three). */
  splits?: SplitName[];
  /**
   * One view per cell ('off'), or the mean of its eight dihedral views ('on'). Default: the mode the
   * run's calibration was fitted in, which is the mode the prediction core embeds cells in, so the
   * case model is trained on what it will read.
   */
  tta?: TtaMode;
  log?: (line: string) => void;
}

/**
 * The mode cells are embedded in for the case model: as asked, else as the run's calibration was
 * fitted (the prediction core's mode, so its embeddings are what the case model reads). Measured on
 * pbc-cases (docs/case-results.md): the mean of the eight views halves the validation cases'
 * log-loss of the case model against one view.
 */
export function caseTtaMode(run: Pick<CellRun, 'calibration'>, asked?: TtaMode): TtaMode {
  return asked ?? run.calibration?.tta ?? 'off';
}

/** Why a run cannot have a case model, in words that say what to do. */
function notCaseLevel(data: string, reason: string): Error {
  return new Error(`${data} is not case-level: ${reason}. A case model learns from labels that belong to the patient (a manifest with patient_id where all of a patient's images carry the patient's one label); a run whose labels are cell types has a differential count, not a case call.`);
}

/**
 * Reads the run's case-labelled data with its classes, preprocessing and split, and embeds every
 * cell of the asked splits with the cell model, grouped into bags by patient. The caller closes
 * `dataset`.
 */
export async function prepareCaseData(run: CellRun, options: CaseDataOptions = {}): Promise<CaseData> {
  const log = options.log ?? (() => {});
  const training = run.config.training;
  const data = options.data ?? training.data;
  if (!existsSync(data)) throw new Error(`${data} is not there${options.data ? '' : " (the run's training data moved?)"}; pass the case-labelled manifest with --data`);
  const source = await readSource(data, { classNames: run.classNames });
  const found = sourceCases(source.samples);
  if ('reason' in found) throw notCaseLevel(data, found.reason);
  const labelIndex = new Map(run.classNames.map((name, k) => [name, k]));
  const patientOfPath = new Map(source.samples.map((sample) => [sample.path, sample.patientId!]));
  const caseOf = (path: string) => {
    const id = patientOfPath.get(path);
    return id === undefined ? undefined : { id, label: labelIndex.get(found.cases.labelOf.get(id)!)! };
  };
  const ownData = resolve(data) === resolve(training.data);
  if (!ownData && source.declaredSplits.size === 0) {
    throw new Error(`${data} has no split column: a case model chooses its epoch and temperature on validation patients, so give each patient a split (train, val, test) in the manifest`);
  }
  log(`reading ${data} with the run's ${ownData ? 'split' : "classes and preprocessing, and the manifest's split column"} …`);
  const dataset = await prepareDataset({
    source: data,
    classNames: run.classNames,
    preprocessing: run.inference.preprocessing,
    limits: run.inference.limits,
    stainNormalization: run.inference.stainNormalizer,
    channelStats: run.inference.channelStats,
    onBadImage: 'skip',
    cacheDir: options.cacheDir ?? training.cacheDir ?? DEFAULT_CACHE_DIR,
    workers: options.workers ?? training.workers,
    seed: training.seed,
    split: ownData ? { kind: 'file', path: runPath(run.dir, 'split') } : { kind: 'manifest' },
  });
  try {
    const cellTemperature = run.calibration?.temperature ?? 1;
    const device = options.device ?? 'cpu';
    const tta = caseTtaMode(run, options.tta);
    const bags: Record<SplitName, CaseBag[]> = { train: [], val: [], test: [] };
    for (const split of options.splits ?? (['train', 'val', 'test'] as SplitName[])) {
      if (dataset.subset(split).images.length === 0) continue;
      const loader = dataset.loader(split, { batchSize: 64, order: 'sequential', seed: 0, augmentation: null });
      bags[split] = bagsOf(await collectCellOutputs(run.model, loader, device, tta), caseOf, cellTemperature);
      log(`${split}: ${bags[split].length} cases, ${dataset.subset(split).images.length} cells embedded${tta === 'on' ? ' (each the mean of its 8 dihedral views)' : ''}`);
    }
    return { dataset, caseOf, bags, cellTemperature, embeddingDim: embeddingSize(run.model), embeddingViews: tta === 'on' ? 8 : 1 };
  } catch (err) {
    await dataset.close();
    throw err;
  }
}

function scoresOf(probabilities: number[][], called: number[], labels: number[], classNames: string[]): CaseSplitScores {
  const m = caseMetrics(probabilities, called, labels, classNames);
  return { cases: m.count, accuracy: m.accuracy, nll: m.nll, brier: m.brier };
}

/** The floor of a case referral threshold: the run's own referral threshold for a call. */
function referralFloor(run: Pick<CellRun, 'calibration'>): number {
  return run.calibration?.referralThreshold ?? DEFAULT_REFERRAL_THRESHOLD;
}

/**
 * The baseline with the best validation-case accuracy (ties: the lower Brier score, then the order
 * of CASE_BASELINES); mean probability when there are no validation cases. Its referral threshold
 * is fitted on its validation-case calls (no wrong one at or above it, at least `floor`).
 */
export function chooseBaseline(valBags: readonly CaseBag[], classNames: string[], floor = DEFAULT_REFERRAL_THRESHOLD): { baseline: CaseBaseline; scores: Record<CaseBaseline, CaseSplitScores> | null; referral: CaseReferral | null } {
  if (valBags.length === 0) return { baseline: 'mean-probability', scores: null, referral: null };
  const labels = valBags.map((bag) => bag.label);
  const calls = Object.fromEntries(CASE_BASELINES.map((baseline) => [baseline, valBags.map((bag) => caseBaselineCall(baseline, bag.cellProbabilities, classNames.length))])) as Record<CaseBaseline, ReturnType<typeof caseBaselineCall>[]>;
  const scores = Object.fromEntries(CASE_BASELINES.map((baseline) => [baseline, scoresOf(calls[baseline].map((c) => c.probabilities), calls[baseline].map((c) => c.called), labels, classNames)])) as Record<CaseBaseline, CaseSplitScores>;
  const baseline = [...CASE_BASELINES].sort((a, b) => scores[b].accuracy - scores[a].accuracy || scores[a].brier - scores[b].brier)[0];
  const chosen = calls[baseline];
  const fit = fitCaseReferralThreshold(chosen.map((c) => c.probabilities), chosen.map((c) => c.called), labels, floor);
  return { baseline, scores, referral: { ...fit, fittedOn: `the ${baseline} calls of the ${valBags.length} validation cases (the cases that also chose the baseline)` } };
}

/**
 * Folds of the case model train-case trains by default: the recipe is trained once per fold over
 * the train and validation cases together (each fold's epochs chosen on the next fold), and the
 * case model is the mean of every fold's heads. Each case is then called once by heads that never
 * saw it, and those out-of-fold calls fit the temperature and the case referral threshold of the
 * very model that is kept; the validation cases alone (23 on pbc-cases) are few and separated.
 */
export const DEFAULT_CASE_FOLDS = 5;

/** What either way of training the heads gives the record. */
interface FittedHeads {
  trained: TrainedCaseHead[];
  encoder: AplNet | null;
  epochs: number;
  bestEpoch: number;
  fineTuneHistory: CaseEpoch[];
  temperature: number;
  fittedOn: string;
  validation: CaseSplitScores | null;
  referral: CaseReferral | undefined;
}

/** Scores and referral threshold of held-out calls (probabilities already calibrated). */
function heldOutFit(probabilities: number[][], labels: number[], classNames: string[], floor: number, fittedOn: string): { validation: CaseSplitScores | null; referral: CaseReferral | undefined } {
  if (labels.length === 0) return { validation: null, referral: undefined };
  const called = probabilities.map((row) => argmax(row));
  return {
    validation: scoresOf(probabilities, called, labels, classNames),
    referral: { ...fitCaseReferralThreshold(probabilities, called, labels, floor), fittedOn },
  };
}

/** The cross-validated case model: see DEFAULT_CASE_FOLDS. */
function crossValidatedHeads(every: readonly CaseBag[], classNames: string[], embeddingViews: 1 | 8, o: { folds: number; seed: number; heads: number; head: CaseHeadOptions; floor: number; log: (line: string) => void }): FittedHeads {
  o.log(`training the case model (gated attention MIL, ${o.folds} folds × ${o.heads} head${o.heads === 1 ? '' : 's'}, frozen encoder) on the ${every.length} train and validation cases: each fold's heads train on ${o.folds - 2} folds, choose their epochs on the next and call the one held out …`);
  const folds = trainCaseFolds(every, classNames.length, { folds: o.folds, foldSeed: o.seed, headSeed: o.seed, heads: o.heads, head: o.head, log: o.log });
  try {
    const logits = outOfFoldLogits(folds);
    const rows = every.map((bag) => logits.get(bag.id)!);
    const labels = every.map((bag) => bag.label);
    const { temperature, fittedOn } = caseTemperature(rows, labels, { name: 'out-of-fold calls', short: `out-of-fold calls of the ${o.folds} folds` });
    const probabilities = rows.map((row) => Array.from(softmaxRow(row, temperature)));
    const trained = folds.flatMap((fold) => fold.heads);
    return {
      trained,
      encoder: null,
      epochs: Math.max(...trained.map((h) => h.history.length)),
      bestEpoch: trained[0].bestEpoch,
      fineTuneHistory: [],
      temperature,
      fittedOn,
      ...heldOutFit(probabilities, labels, classNames, o.floor, `out-of-fold calls of the ${every.length} train and validation cases (${o.folds} folds, seed ${o.seed})`),
    };
  } catch (err) {
    disposeFolds(folds);
    throw err;
  }
}

/** Heads trained on the train split with epochs chosen on the validation split (a fine-tuned encoder, or too few cases for folds). */
async function splitTrainedHeads(run: CellRun, data: CaseData, o: { encoderKind: CaseEncoder; seed: number; heads: number; head: CaseHeadOptions; fineTuneEpochs?: number; fineTune?: TrainCaseOptions['fineTune']; device?: string; floor: number; log: (line: string) => void }): Promise<FittedHeads> {
  const { train, val } = data.bags;
  o.log(`training the case model (gated attention MIL${o.heads > 1 ? `, ${o.heads} heads from seeds ${o.seed}–${o.seed + o.heads - 1}` : ''}, ${o.encoderKind} encoder) on ${train.length} cases, choosing the epoch on ${val.length} validation cases …`);
  const trained = trainCaseHeads(train, val, run.classNames.length, o.head, o.heads, o.log);
  const head = trained[0];
  const heads = trained.map((h) => h.mil);
  if (o.heads > 1) o.log(`case model heads' best epochs: ${trained.map((h) => h.bestEpoch).join(', ')}`);
  let encoder: AplNet | null = null;
  try {
    let valBags = val;
    let fineTuneHistory: CaseEpoch[] = [];
    let bestEpoch = head.bestEpoch;
    let epochs = Math.max(...trained.map((h) => h.history.length));
    if (o.encoderKind === 'fine-tune') {
      manualSeed(o.seed);
      encoder = createModel(run.model.config);
      encoder.loadStateDict(run.model.stateDict());
      const device = o.device ?? 'cpu';
      encoder.to(device);
      head.mil.to(device);
      const tuned = await fineTuneCaseModel({
        encoder,
        mil: head.mil,
        train: { subset: data.dataset.subset('train'), bags: train },
        val: val.length > 0 ? { subset: data.dataset.subset('val'), bags: val } : null,
        caseOf: data.caseOf,
        cellTemperature: data.cellTemperature,
        device,
        tta: data.embeddingViews === 8 ? 'on' : 'off',
      }, { ...FINE_TUNE_DEFAULTS, ...o.fineTune, epochs: o.fineTuneEpochs ?? FINE_TUNE_DEFAULTS.epochs, seed: o.seed }, o.log);
      fineTuneHistory = tuned.history;
      valBags = tuned.valBags ?? val;
      // Epoch 0 of fine-tuning means no epoch beat the frozen head: its weights (and epoch) were kept.
      bestEpoch = tuned.bestEpoch > 0 ? head.history.length + tuned.bestEpoch : head.bestEpoch;
      epochs = head.history.length + tuned.history.length;
      head.mil.to('cpu');
      encoder.to('cpu');
    }
    const valLabels = valBags.map((bag) => bag.label);
    const valLogits = ensembleLogitsOfBags(heads, valBags);
    const { temperature, fittedOn } = caseTemperature(valLogits, valLabels);
    const probabilities = valLogits.map((row) => Array.from(softmaxRow(row, temperature)));
    return {
      trained, encoder, epochs, bestEpoch, fineTuneHistory, temperature, fittedOn,
      ...heldOutFit(probabilities, valLabels, run.classNames, o.floor, `the calls of the ${valLabels.length} validation cases (the cases that also chose the epoch: optimistic)`),
    };
  } catch (err) {
    for (const mil of heads) mil.dispose();
    encoder?.dispose();
    throw err;
  }
}

export interface TrainCaseOptions extends CaseDataOptions {
  encoder?: CaseEncoder;
  /** Epochs of the MIL head on the frozen embeddings (and the start of fine-tuning). */
  epochs?: number;
  /** Epochs of end-to-end fine-tuning (encoder 'fine-tune' only). */
  fineTuneEpochs?: number;
  /** MIL heads (an ensemble of seeds seed, seed + 1, …; per fold); default DEFAULT_CASE_HEADS with a frozen encoder, 1 (the only choice) with fine-tuning. */
  heads?: number;
  /** Folds of a cross-validated case model (frozen encoder; see DEFAULT_CASE_FOLDS); 1: one model trained on the train split, its epochs chosen on the validation split. */
  folds?: number;
  seed?: number;
  head?: Partial<Omit<CaseHeadOptions, 'epochs' | 'seed'>>;
  fineTune?: Partial<Omit<FineTuneOptions, 'epochs' | 'seed'>>;
}

export interface TrainCaseResult {
  record: CaseLevelRecord;
  history: CaseEpoch[];
  fineTuneHistory: CaseEpoch[];
  seconds: number;
}

/** Trains and saves the run's case model; see the file comment for what it reads and writes. */
export async function trainCaseModel(run: CellRun, options: TrainCaseOptions = {}): Promise<TrainCaseResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  const lock = acquireRunLock(resolve(run.dir), 'train-case');
  try {
    for (const name of removeStaleTempFiles(run.dir)) log(`removed ${name}, a temp file left by a stopped writer`);
    const started = performance.now();
    const encoderKind = options.encoder ?? DEFAULT_CASE_ENCODER;
    const seed = options.seed ?? 0;
    const headCount = options.heads ?? (encoderKind === 'frozen' ? DEFAULT_CASE_HEADS : 1);
    if (!Number.isInteger(headCount) || headCount < 1 || headCount > 64) throw new Error(`--heads must be a whole number from 1 to 64, got ${headCount}`);
    if (encoderKind === 'fine-tune' && headCount !== 1) throw new Error(`--encoder fine-tune trains the encoder through one case head; --heads ${headCount} needs --encoder frozen (or drop --heads)`);
    const foldCount = options.folds ?? (encoderKind === 'frozen' ? DEFAULT_CASE_FOLDS : 1);
    if (!Number.isInteger(foldCount) || foldCount < 1 || foldCount === 2 || foldCount > 20) throw new Error(`--folds must be 1 (one model on the train split) or a whole number from 3 to 20, got ${foldCount}`);
    if (encoderKind === 'fine-tune' && foldCount !== 1) throw new Error(`--encoder fine-tune trains one case model on the train split; --folds ${foldCount} needs --encoder frozen (or drop --folds)`);
    if (foldCount * headCount > 64) throw new Error(`--folds ${foldCount} × --heads ${headCount} is ${foldCount * headCount} heads; a case model holds at most 64`);
    const data = await prepareCaseData(run, { ...options, splits: ['train', 'val'], log });
    try {
      const { train, val } = data.bags;
      if (train.length === 0) throw new Error(`the run's train split holds no case of ${options.data ?? run.config.training.data}`);
      if (val.length === 0) log('warning: no validation cases: the last epoch is kept, the baseline is mean probability and the temperature stays 1');
      const choice = chooseBaseline(val, run.classNames, referralFloor(run));
      log(`baseline on ${val.length} validation cases: ${choice.baseline}${choice.scores ? ` (${CASE_BASELINES.map((b) => `${b} ${(choice.scores![b].accuracy * 100).toFixed(1)}%`).join(', ')})` : ''}`);
      const headOptions: CaseHeadOptions = { ...CASE_HEAD_DEFAULTS, ...options.head, epochs: options.epochs ?? CASE_HEAD_DEFAULTS.epochs, seed };
      const every = [...train, ...val];
      const crossValidated = encoderKind === 'frozen' && foldCount >= 3 && every.length >= 2 * foldCount;
      if (encoderKind === 'frozen' && foldCount >= 3 && !crossValidated) log(`${every.length} train and validation cases are too few for ${foldCount} folds (at least ${2 * foldCount}): the case model is trained on the train split, its epochs chosen on the validation split`);
      const fitted = crossValidated
        ? crossValidatedHeads(every, run.classNames, data.embeddingViews, { folds: foldCount, seed, heads: headCount, head: headOptions, floor: referralFloor(run), log })
        : await splitTrainedHeads(run, data, { encoderKind, seed, heads: headCount, head: headOptions, fineTuneEpochs: options.fineTuneEpochs, fineTune: options.fineTune, device: options.device, floor: referralFloor(run), log });
      const { trained, encoder, referral, temperature, fittedOn, validation } = fitted;
      const heads = trained.map((h) => h.mil);
      try {
        if (referral) log(`case referral threshold ${(referral.threshold * 100).toFixed(1)}% (${referral.errors} of ${referral.cases} calls wrong${referral.surestWrong === null ? '' : `, the surest at ${(referral.surestWrong * 100).toFixed(1)}%`}; it refers ${referral.referred} of them; fitted on ${referral.fittedOn})`);
        const sha256 = saveCaseModelFile(run.dir, heads, encoder, run.classNames, run.weightsSha256, data.embeddingViews);
        const seconds = (performance.now() - started) / 1000;
        const record = writeCaseLevel(run.dir, {
          version: 1,
          caseClasses: run.classNames,
          weightsSha256: run.weightsSha256,
          baseline: choice.baseline,
          baselineScores: choice.scores,
          baselineReferral: choice.referral,
          model: {
            file: RUN_FILES.caseModel,
            sha256,
            encoder: encoderKind,
            embeddingViews: data.embeddingViews,
            config: { ...trained[0].mil.config, pooling: trained[0].mil.config.pooling ?? 'attention' },
            heads: heads.length,
            ...(heads.length > 1 ? { headBestEpochs: trained.map((h) => Math.max(1, h.bestEpoch)) } : {}),
            ...(crossValidated ? { folds: foldCount } : {}),
            temperature,
            temperatureFittedOn: fittedOn,
            epochs: fitted.epochs,
            bestEpoch: Math.max(1, fitted.bestEpoch),
            seed,
            trainCases: crossValidated ? every.length : train.length,
            validation,
            ...(referral ? { referral } : {}),
            trainSeconds: seconds,
            trainedAt: new Date().toISOString(),
          },
        });
        const scoredOn = crossValidated ? 'out-of-fold calls' : 'validation cases';
        log(`case model: ${record.model!.headBestEpochs ? `epochs ${record.model!.headBestEpochs.join(', ')}` : `epoch ${record.model!.bestEpoch}`} of ${fitted.epochs} kept; temperature ${temperature.toFixed(3)} (${fittedOn})${validation ? `; ${scoredOn} ${(validation.accuracy * 100).toFixed(1)}% right, log-loss ${validation.nll.toFixed(4)}` : ''}; ${seconds.toFixed(0)} s`);
        log(`wrote ${runPath(run.dir, 'caseModel')} and ${runPath(run.dir, 'caseLevel')}`);
        return { record, history: trained[0].history, fineTuneHistory: fitted.fineTuneHistory, seconds };
      } finally {
        for (const mil of heads) mil.dispose();
        encoder?.dispose();
      }
    } finally {
      await data.dataset.close();
    }
  } finally {
    lock.release();
  }
}

/**
 * Records that a run is case-level with the baseline chosen on its validation cases, keeping the
 * case model already recorded for the same weights. For callers that have the validation bags at
 * hand (evaluate), so a case-level run shows a named case call before any case model is trained.
 */
export function recordCaseLevel(run: CellRun, valBags: readonly CaseBag[], existing: CaseLevelRecord | null): CaseLevelRecord {
  const choice = chooseBaseline(valBags, run.classNames, referralFloor(run));
  return writeCaseLevel(run.dir, {
    version: 1,
    caseClasses: run.classNames,
    weightsSha256: run.weightsSha256,
    baseline: choice.baseline,
    baselineScores: choice.scores,
    baselineReferral: choice.referral,
    model: existing && existing.weightsSha256 === run.weightsSha256 ? existing.model : null,
  });
}
