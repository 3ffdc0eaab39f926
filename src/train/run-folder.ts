// The run folder: everything a trained model needs later (predict, evaluate, serve, resume).
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { loadClassNames, loadInferencePreprocessing, type InferencePreprocessing } from '../data/index.js';
import { createModel, parseModelConfig, type AplNet, type ModelConfig } from '../model/index.js';
import type { TemperatureFit } from '../eval/index.js';
import type { TrainingConfig } from './training-config.js';

export const RUN_FILES = {
  config: 'config.json',
  classes: 'classes.json',
  split: 'split.json',
  preprocessing: 'preprocessing.json',
  bestWeights: 'model.safetensors',
  lastWeights: 'last.safetensors',
  metricsLog: 'metrics.jsonl',
  calibration: 'calibration.json',
  metrics: 'metrics.json',
  report: 'report.html',
  checkpointDir: 'checkpoint',
} as const;

export interface RunConfig {
  aplnetVersion: string;
  createdAt: string;
  training: TrainingConfig;
  model: ModelConfig;
}

export interface Calibration {
  temperature: number;
  /** Below this calibrated top probability an image is flagged "refer to a specialist". */
  referralThreshold: number;
  fittedOn: string;
  nllBefore: number;
  nllAfter: number;
}

export const DEFAULT_REFERRAL_THRESHOLD = 0.7;

/** Where decoded pixels are cached unless a run or command names another folder; shared by runs. */
export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'aplnet');

/** Writes calibration.json (atomically) from a temperature fitted on the validation split. */
export function saveCalibration(runDir: string, fit: TemperatureFit, referralThreshold: number): Calibration {
  const calibration: Calibration = { temperature: fit.temperature, referralThreshold, fittedOn: 'val', nllBefore: fit.nllBefore, nllAfter: fit.nllAfter };
  writeJsonAtomic(runPath(runDir, 'calibration'), calibration);
  return calibration;
}

export function runPath(runDir: string, file: keyof typeof RUN_FILES): string {
  return join(runDir, RUN_FILES[file]);
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function readJson<T>(path: string, what: string): T {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${what}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); it may have been edited or truncated`);
  }
}

export function readRunConfig(runDir: string): RunConfig {
  return readJson<RunConfig>(runPath(runDir, 'config'), `is ${runDir} a folder made by "aplnet train"?`);
}

/** A trained run, ready for inference. */
export interface LoadedRun {
  dir: string;
  config: RunConfig;
  classNames: string[];
  inference: InferencePreprocessing;
  model: AplNet;
  calibration: Calibration;
}

/** Loads the best weights of a run onto a device, in eval mode, with its preprocessing and calibration. */
export async function loadRun(runDir: string, device = 'cpu', weights: 'best' | 'last' = 'best'): Promise<LoadedRun> {
  const config = readRunConfig(runDir);
  const classNames = await loadClassNames(runPath(runDir, 'classes'));
  const inference = await loadInferencePreprocessing(runPath(runDir, 'preprocessing'));
  const modelConfig = parseModelConfig(config.model, runPath(runDir, 'config'));
  if (modelConfig.numClasses !== classNames.length) {
    throw new Error(`${runDir}: config.json has ${modelConfig.numClasses} classes but classes.json lists ${classNames.length}`);
  }
  const weightsPath = runPath(runDir, weights === 'best' ? 'bestWeights' : 'lastWeights');
  if (!existsSync(weightsPath)) throw new Error(`${weightsPath} is missing: the run has no trained weights yet (did training finish at least one epoch?)`);
  const model = createModel(modelConfig);
  try {
    model.load(weightsPath);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const calibrationPath = runPath(runDir, 'calibration');
  const calibration: Calibration = existsSync(calibrationPath)
    ? readJson<Calibration>(calibrationPath, 'calibration')
    : { temperature: 1, referralThreshold: DEFAULT_REFERRAL_THRESHOLD, fittedOn: 'none', nllBefore: NaN, nllAfter: NaN };
  return { dir: runDir, config, classNames, inference, model: model.to(device).eval(), calibration };
}
