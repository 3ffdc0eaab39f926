// `aplnet train`: prepares the data, builds the model and optimizer, runs the Learner, then fits
// the temperature on the validation split so predictions are calibrated from the first use.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDataSummary, inverseFrequencyClassWeights, loadClassNames, prepareDataset, smearAugmentationWith, writeSkippedList, type DatasetOptions, type PreparedDataset } from '../data/index.js';
import { createModel, presetConfig, type AplNet } from '../model/index.js';
import { AdamW, fromTypedArray, getCpuRngState, manualSeed, resolveDevice, setCpuRngState, setNumThreads, type ParamGroup, type Tensor } from '../torch/index.js';
import { hasCheckpoint, loadCheckpoint, recoverCheckpoint, type LoopPosition } from './checkpoint.js';
import { Learner, type StopReason, type TrainingLoss } from './learner.js';
import { WeightEma } from './ema.js';
import { DEFAULT_CACHE_DIR, readRunConfig, runPath, weightsMetadata, type RunConfig } from './run-files.js';
import { calibrateOnValidation, calibrationIsCurrent } from './calibrate.js';
import { splitSpec } from './split-choice.js';
import { resolveZoom, zoomOfRun } from './zoom-choice.js';
import { acquireRunLock, removeStaleTempFiles, writeJsonAtomic } from '../io/index.js';
import { resolveTrainingConfig } from './resolve-config.js';
import type { TrainingConfig } from './training-config.js';
import { progressBar } from './callbacks/progress-bar.js';
import { metricsLog } from './callbacks/metrics-log.js';
import { checkpointing, earlyStopping, interruptHandler } from './callbacks/checkpointing.js';
import { RankRole, noteSingleProcess } from './distributed-run.js';
import type { WorldEnv } from '../torch/index.js';

export interface TrainResult {
  runDir: string;
  reason: StopReason | 'already-finished';
  bestEpoch: number;
  bestValMacroF1: number;
  seconds: number;
}

function packageVersion(): string {
  const path = new URL('../../../package.json', import.meta.url);
  try {
    return JSON.parse(readFileSync(path, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

/** Weight decay on conv and linear weights only: decaying norms and biases hurts small nets. */
function parameterGroups(model: AplNet, weightDecay: number): ParamGroup[] {
  const decay: Tensor[] = [];
  const noDecay: Tensor[] = [];
  for (const [, p] of model.namedParameters()) (p.ndim > 1 ? decay : noDecay).push(p);
  return [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }];
}

function withRngRestored<R>(fn: () => R): R {
  const state = getCpuRngState();
  try {
    return fn();
  } finally {
    setCpuRngState(state);
    state.dispose();
  }
}

const freshPosition = (): LoopPosition => ({ epoch: 0, batchInEpoch: 0, globalStep: 0, bestScore: -Infinity, bestEpoch: 0, epochsWithoutImprovement: 0, finished: false });

/**
 * Trains one model into runDir (new, or resumed from its checkpoint). The run folder is locked for
 * the whole call: a second writer gets an error naming this one. With `world` (the torchrun
 * environment), this process is one rank of a data-parallel run: rank 0 locks and writes the
 * folder, the others read it and train their share of every batch (see distributed-run.ts).
 */
export async function trainRun(options: Partial<TrainingConfig> & { data?: string }, runDir: string, { resume = false, log = (line: string) => console.error(line), loss = null as TrainingLoss | null, world = null as WorldEnv | null } = {}): Promise<TrainResult> {
  runDir = resolve(runDir);
  if (!world) return trainAsWriter(options, runDir, resume, log, loss, null);
  const role = await RankRole.join(world, options.device ?? 'cpu');
  try {
    // Ranks other than 0 read the folder rank 0 prepared, as a resumed run reads it, and write nothing.
    const result = role.writes ? await trainAsWriter(options, runDir, resume, log, loss, role) : await trainLocked(options, runDir, true, () => undefined, loss, role);
    role.leave();
    return result;
  } catch (err) {
    role.failed(err);
    throw err;
  }
}

async function trainAsWriter(options: Partial<TrainingConfig>, runDir: string, resume: boolean, log: (line: string) => void, loss: TrainingLoss | null, role: RankRole | null): Promise<TrainResult> {
  if (resume && !existsSync(runPath(runDir, 'config'))) throw new Error(`${runDir} holds no run to resume (no config.json); train without --resume to start one`);
  mkdirSync(runDir, { recursive: true });
  const lock = acquireRunLock(runDir, resume ? 'train --resume' : 'train');
  try {
    if (!resume && existsSync(runPath(runDir, 'config'))) {
      throw new Error(`${runDir} already holds a run (config.json). Choose a new --out folder, or pass --resume to continue it.`);
    }
    const checkpointDir = runPath(runDir, 'checkpointDir');
    for (const note of recoverCheckpoint(checkpointDir)) log(note);
    for (const name of removeStaleTempFiles(runDir)) log(`removed ${name}, a temp file left by a stopped writer`);
    return await trainLocked(options, runDir, resume, log, loss, role);
  } finally {
    lock.release();
  }
}

async function trainLocked(options: Partial<TrainingConfig>, runDir: string, resume: boolean, log: (line: string) => void, loss: TrainingLoss | null, role: RankRole | null): Promise<TrainResult> {
  const started = performance.now();
  await role?.waitForRunFolder();
  const writes = role?.writes ?? true;
  const savedRun = resume ? readRunConfig(runDir) : null;
  const config = resolveTrainingConfig(options, savedRun?.training ?? null, log);
  if (config.threads) setNumThreads(config.threads);
  const device = resolveDevice(config.device);
  manualSeed(config.seed);
  const modelConfig = savedRun?.model ?? (() => {
    const c = presetConfig(config.model, 1);
    if (config.size) c.inputSize = config.size;
    if (config.dropPath > 0) c.dropPath = config.dropPath;
    return c;
  })();
  if (config.attentionEntropy > 0 && modelConfig.head !== 'attention-pool') {
    throw new Error(`--attention-entropy ${config.attentionEntropy} needs a preset with an attention-pooling head (${config.model} pools by average): use aplnet-s-ap or aplnet-m-ap, or leave it at 0`);
  }

  log(`reading ${config.data} …`);
  const split = await splitSpec(config, runDir, resume, options);
  const datasetOptions: DatasetOptions = {
    source: config.data,
    classNames: resume ? await loadClassNames(runPath(runDir, 'classes')) : undefined,
    preprocessing: { size: modelConfig.inputSize, resize: config.resize },
    onBadImage: config.onBadImage,
    cacheDir: config.cacheDir ?? DEFAULT_CACHE_DIR,
    split: split.spec,
    stainNormalization: config.stainNorm,
    seed: config.seed,
    workers: config.workers,
  };
  // Ranks other than 0 read the zoom rank 0 chose (they read the folder as a resumed run does).
  const { zoom, choice: zoomChoice } = await resolveZoom(config, runDir, resume || !writes, datasetOptions, log);
  const dataset: PreparedDataset = await prepareDataset({ ...datasetOptions, preprocessing: { ...datasetOptions.preprocessing, ...(zoom === 1 ? {} : { zoom }) } });
  let model: AplNet | null = null;
  let averageModel: AplNet | null = null;
  try {
    const skippedList = runPath(runDir, 'skipped');
    if (writes) await writeSkippedList(skippedList, dataset.summary.skippedImages);
    log(formatDataSummary(dataset.summary, { skippedListPath: skippedList }));
    let runConfig: RunConfig;
    if (savedRun) {
      runConfig = savedRun;
    } else {
      await dataset.saveTo(runDir);
      modelConfig.numClasses = dataset.classNames.length;
      runConfig = { aplnetVersion: packageVersion(), createdAt: new Date().toISOString(), training: config, model: modelConfig, splitKind: split.kind, ...(zoomChoice ? { zoomChoice } : {}) };
      writeJsonAtomic(runPath(runDir, 'config'), runConfig);
    }
    role?.runFolderReady();
    const trainSubset = dataset.subset('train');
    if (trainSubset.images.length === 0) throw new Error(`no training images in ${config.data} after splitting; add images or change --split`);
    if (dataset.subset('val').images.length === 0) {
      throw new Error(`no validation images in ${config.data} after splitting; each class needs a few images for validation${split.kind === 'manifest' ? ' (write "val" in the split column for some training patients or images of every class)' : ''}`);
    }

    await role?.waitForDataEverywhere();
    model = createModel(runConfig.model).to(device);
    const optimizer = new AdamW(parameterGroups(model, config.weightDecay), { lr: config.lr });
    const trainOptions = { batchSize: config.batch, order: config.balance === 'sampler' ? 'balanced' as const : 'shuffle' as const, seed: config.seed, augmentation: config.augment ? smearAugmentationWith({ stainJitter: config.stainJitter, rotation: config.rotation, fill: config.rotationFill }) : null, dropLast: trainSubset.images.length > config.batch };
    // In a data-parallel run --batch is the global batch: each rank trains its share of every one.
    const train = role ? role.trainLoader(dataset, trainOptions) : dataset.loader('train', trainOptions);
    const val = dataset.loader('val', { batchSize: Math.max(config.batch, 64), order: 'sequential', seed: config.seed, augmentation: null });
    const stepsPerEpoch = train.batchesPerEpoch;
    const classWeights = config.balance === 'weights'
      ? fromTypedArray(Float32Array.from(inverseFrequencyClassWeights(trainSubset.labels, dataset.classNames.length)), [dataset.classNames.length], { device })
      : null;

    // The weight average is a second copy of the network (0.7 M parameters for aplnet-s: cheap). Its
    // throwaway initialisation must not consume random numbers, so the trained weights follow exactly
    // the path they would follow without --ema.
    const average = averageModel = config.ema > 0 ? withRngRestored(() => createModel(runConfig.model).to(device)) : null;
    const ema = average ? new WeightEma(model, average, config.ema) : null;
    let position = freshPosition();
    const checkpointDir = runPath(runDir, 'checkpointDir');
    if (resume && hasCheckpoint(checkpointDir)) {
      position = loadCheckpoint(checkpointDir, model, optimizer, average);
      if (position.finished && position.epoch >= config.epochs) {
        optimizer.dispose();
        classWeights?.dispose();
        if (writes && !calibrationIsCurrent(runDir)) {
          log(`${runDir} finished ${position.epoch} epochs but its calibration is missing or stale (stopped during calibration): calibrating now`);
          model.load(runPath(runDir, 'bestWeights'), { requireChecksum: true });
          await calibrateOnValidation(model, dataset, device, runDir, config.batch, log);
        } else {
          log(`${runDir} already finished ${position.epoch} epochs; pass a larger --epochs to train further`);
        }
        return { runDir, reason: 'already-finished', bestEpoch: position.bestEpoch, bestValMacroF1: position.bestScore, seconds: (performance.now() - started) / 1000 };
      }
      position.finished = false;
      log(`resuming at epoch ${position.epoch + 1}, batch ${position.batchInEpoch + 1} (step ${position.globalStep})`);
    } else if (resume) {
      log(`${runDir} has no checkpoint yet (it was stopped during its first epoch): training again from epoch 1 with the saved configuration and split`);
    }
    if (role) role.recordWorld(runDir, config.batch, config.syncBn, position, log);
    else noteSingleProcess(runDir, config.batch, position, log);
    const parallel = role?.wrap(model, config.syncBn) ?? null;
    const interrupts = interruptHandler(log);
    const rankZeroCallbacks = [
      progressBar(config.epochs),
      metricsLog(runPath(runDir, 'metricsLog')),
      checkpointing({ best: runPath(runDir, 'bestWeights'), last: runPath(runDir, 'lastWeights'), checkpointDir }, weightsMetadata(runDir, dataset.classNames), config.keep),
      earlyStopping(config.patience, log),
    ];
    const learner = new Learner({
      model, optimizer, train, val, device, epochs: config.epochs, classWeights, labelSmoothing: config.labelSmoothing, position, ema, loss, parallel,
      attentionEntropy: config.attentionEntropy,
      mix: { mixup: config.mixup, cutmix: config.cutmix, probability: config.mixProbability, seed: config.seed },
      schedule: { kind: config.schedule, peakLr: config.lr, totalSteps: stepsPerEpoch * config.epochs, warmupSteps: Math.round(config.warmupEpochs * stepsPerEpoch) },
      callbacks: role ? role.callbacks(rankZeroCallbacks, [interrupts]) : [...rankZeroCallbacks, interrupts],
    });
    log(`training ${runConfig.model.name} (${(model.parameterCount() / 1e6).toFixed(2)} M parameters) on ${device}, ${trainSubset.images.length} training images, ${stepsPerEpoch} steps per epoch`);
    let reason: StopReason;
    try {
      reason = await learner.fit();
    } finally {
      interrupts.detach();
      parallel?.detach();
      classWeights?.dispose();
      optimizer.dispose();
    }
    if (reason === 'interrupted') {
      log(`stopped; checkpoint saved in ${checkpointDir}. Continue with: aplnet train ${config.data} --out ${runDir} --resume`);
    } else if (writes) {
      model.load(runPath(runDir, 'bestWeights'), { requireChecksum: true });
      await calibrateOnValidation(model, dataset, device, runDir, config.batch, log);
      const kept = config.keep === 'last'
        ? `kept the last epoch, ${learner.position.bestEpoch} (validation macro-F1 ${learner.position.bestScore.toFixed(4)})`
        : `best validation macro-F1 ${learner.position.bestScore.toFixed(4)} at epoch ${learner.position.bestEpoch}`;
      log(`${kept}; run saved in ${runDir}`);
    }
    return { runDir, reason, bestEpoch: learner.position.bestEpoch, bestValMacroF1: learner.position.bestScore, seconds: (performance.now() - started) / 1000 };
  } finally {
    model?.dispose();
    averageModel?.dispose();
    await dataset.close();
  }
}

/** k-fold cross-validation: one run folder per fold (fold-0 …), and cv-summary.json across them. */
export async function trainFolds(options: Partial<TrainingConfig>, outDir: string, log = (line: string) => console.error(line)): Promise<TrainResult[]> {
  const folds = options.folds!;
  const results: TrainResult[] = [];
  let foldOptions = options;
  for (let fold = 0; fold < folds; fold++) {
    log(`\n=== fold ${fold + 1} of ${folds} ===`);
    const result = await trainRun({ ...foldOptions, fold }, join(outDir, `fold-${fold}`), { log });
    results.push(result);
    if (result.reason === 'interrupted') break;
    if (fold === 0 && options.zoom === 'auto') {
      // The members of an ensemble must see an image the same way: the first fold's choice holds for all.
      const chosen = await zoomOfRun(result.runDir);
      foldOptions = { ...options, zoom: chosen };
      log(`--zoom auto: the other folds train at the zoom fold 1 chose, ${chosen}, so every member reads an image the same way`);
    }
  }
  const scores = results.map((r) => r.bestValMacroF1);
  const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
  const sd = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, scores.length - 1));
  writeJsonAtomic(join(outDir, 'cv-summary.json'), { folds: results.map((r, i) => ({ fold: i, runDir: r.runDir, bestEpoch: r.bestEpoch, valMacroF1: r.bestValMacroF1 })), valMacroF1Mean: mean, valMacroF1Sd: sd });
  log(`cross-validation: validation macro-F1 ${mean.toFixed(4)} ± ${sd.toFixed(4)} over ${results.length} folds`);
  return results;
}
