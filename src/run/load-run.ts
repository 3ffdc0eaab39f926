// Loading a run folder for inference, checked end to end: config, classes, preprocessing, weights
// (checksum, classes and preprocessing they were trained with, every value finite) and the
// calibration fitted for exactly those weights. Anything wrong is an error naming the file.
import { existsSync, statSync } from 'node:fs';
import { loadClassNames, loadInferencePreprocessing, type InferencePreprocessing } from '../data/index.js';
import { createModel, parseModelConfig, type AplNet, type CaseModel } from '../model/index.js';
import type { CaseBaseline } from '../eval/index.js';
import { isEnsembleFolder, loadEnsemble } from './ensemble-run.js';
import { checkWeightsMatchRun, readCalibration, readRunConfig, runPath, sha256OfFile, type Calibration, type RunConfig } from '../train/index.js';
import { loadCaseModel, readCaseLevel, type CaseReferral } from '../train/index.js';
import { readOod, type LoadedOod } from '../train/index.js';

/** A trained run, ready for inference. */
export interface LoadedRun {
  dir: string;
  config: RunConfig;
  classNames: string[];
  inference: InferencePreprocessing;
  model: AplNet;
  /** Null only when loaded with `calibration: 'optional'` and none valid was found (evaluate refits it). */
  calibration: Calibration | null;
  /** SHA-256 of the weights file loaded (an ensemble: of its members' digests). */
  weightsSha256: string;
  /** Set when the folder is an ensemble (train --folds): every member, loaded and checked like a run. */
  members?: LoadedRun[];
  /**
   * Set when the run's labels belong to the patient (case-level.json): the baseline that makes the
   * case call without a case model (chosen on validation cases), and the case model once trained by
   * "aplnet train-case" (checked end to end). Null when the labels are cell types (or the case level
   * was never recorded): there is no case call then, only a differential count.
   */
  caseLevel: CaseLevel | null;
  /**
   * The out-of-distribution check (ood.json, fitted with the calibration). Null only when loaded
   * with `calibration: 'optional'` and none valid was found; absent for an ensemble, whose members
   * each carry their own.
   */
  ood?: LoadedOod | null;
}

export interface CaseLevel {
  baseline: CaseBaseline;
  model: CaseModel | null;
  /** The referral threshold fitted for the call in use (the case model's, else the baseline's); null: none recorded, the run's cell referral threshold applies. */
  referral: CaseReferral | null;
}

export interface LoadRunOptions {
  device?: string;
  /** 'required' (predict, serve, explain): a missing or stale calibration is an error. */
  calibration?: 'required' | 'optional';
  /** 'load' (default): case-level.json and the case model are loaded and checked; 'skip': not read (train-case, which replaces them). */
  caseLevel?: 'load' | 'skip';
}

async function readOrExplain<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(message.includes(path) ? message : `${path}: ${message}`);
  }
}

/** Throws naming the first parameter or buffer holding NaN or Inf (a damaged or diverged model). */
function checkFiniteWeights(model: AplNet, weightsPath: string): void {
  for (const [name, tensor] of model.stateDict()) {
    // Weights are saved in float32 (or float64 from Python); integer buffers cannot hold NaN.
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') continue;
    const values = tensor.data() as Float32Array | Float64Array;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`${weightsPath}: ${name} holds ${values[i]} at element ${i}; a model with NaN or Inf weights cannot give a trustworthy answer. Retrain or restore the file.`);
    }
  }
}

/** Loads the best weights of a run (or every member of an ensemble, ensemble-run.ts) onto a device, in eval mode, with its preprocessing and calibration. */
export async function loadRun(runDir: string, { device = 'cpu', calibration = 'required', caseLevel = 'load' }: LoadRunOptions = {}): Promise<LoadedRun> {
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new Error(`${runDir} is not a folder; give the run folder made by "aplnet train"`);
  if (isEnsembleFolder(runDir)) return loadEnsemble(runDir, { device, calibration }, loadRun);
  const config = readRunConfig(runDir);
  const classesPath = runPath(runDir, 'classes');
  const classNames = await readOrExplain(classesPath, () => loadClassNames(classesPath));
  const preprocessingPath = runPath(runDir, 'preprocessing');
  const inference = await readOrExplain(preprocessingPath, () => loadInferencePreprocessing(preprocessingPath));
  const modelConfig = parseModelConfig(config.model, runPath(runDir, 'config'));
  if (modelConfig.numClasses !== classNames.length) {
    throw new Error(`${runDir}: config.json has ${modelConfig.numClasses} classes but classes.json lists ${classNames.length}; one of them was edited`);
  }
  const weightsPath = runPath(runDir, 'bestWeights');
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath} is missing: the run has no trained weights yet (did training finish at least one epoch?)`);
  const weightsSha256 = sha256OfFile(weightsPath);
  const model = createModel(modelConfig);
  try {
    const metadata = model.load(weightsPath, { strict: true, requireChecksum: true });
    checkWeightsMatchRun(weightsPath, metadata, runDir, classNames);
    checkFiniteWeights(model, weightsPath);
    let fitted: Calibration | null = null;
    try {
      fitted = readCalibration(runDir, weightsSha256);
    } catch (err) {
      if (calibration === 'required') throw err;
    }
    let ood: LoadedOod | null = null;
    try {
      ood = readOod(runDir, weightsSha256, fitted?.tta ?? 'off');
      const width = model.head.weight.shape[1];
      if (ood.record.embeddingSize !== width) throw new Error(`${runPath(runDir, 'ood')} was fitted on ${ood.record.embeddingSize}-long embeddings but the model's are ${width} long; run "aplnet evaluate ${runDir}" to refit it`);
    } catch (err) {
      if (calibration === 'required') throw err;
      ood = null;
    }
    const cases = caseLevel === 'load' ? loadCaseLevel(runDir, classNames, weightsSha256, model, device) : null;
    return { dir: runDir, config, classNames, inference, model: model.to(device).eval(), calibration: fitted, weightsSha256, caseLevel: cases, ood };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** case-level.json and the case model it records, both checked against the cell weights; null when the run has none. */
function loadCaseLevel(runDir: string, classNames: string[], weightsSha256: string, model: AplNet, device: string): CaseLevel | null {
  const record = readCaseLevel(runDir, weightsSha256, classNames);
  if (!record) return null;
  const referral = (record.model ? record.model.referral : record.baselineReferral) ?? null;
  return { baseline: record.baseline, model: record.model ? loadCaseModel(runDir, record.model, classNames, weightsSha256, model, device) : null, referral };
}

/** The run's calibration, or an error saying how to get one (for callers that need calibrated output). */
export function requireCalibration(run: LoadedRun): Calibration {
  if (!run.calibration) throw new Error(`${runPath(run.dir, 'calibration')} is missing or does not match the weights; run "aplnet evaluate ${run.dir}" to refit it`);
  return run.calibration;
}

/** The run's out-of-distribution check (every member's, for an ensemble), or an error saying how to fit one. */
export function requireOod(run: LoadedRun): void {
  for (const part of run.members ?? [run]) {
    if (!part.ood) throw new Error(`${runPath(part.dir, 'ood')} is missing or does not match the weights, so an image that is not a cell would be classified like one; run "aplnet evaluate ${part.dir}" to fit it`);
  }
}
