// Loading a run folder for inference: config, classes, preprocessing, weights and calibration.
import { existsSync } from 'node:fs';
import { loadClassNames, loadInferencePreprocessing, type InferencePreprocessing } from '../data/index.js';
import { createModel, parseModelConfig, type AplNet } from '../model/index.js';
import { readJson } from '../io/index.js';
import { DEFAULT_REFERRAL_THRESHOLD, readRunConfig, runPath, type Calibration, type RunConfig } from '../train/index.js';

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
