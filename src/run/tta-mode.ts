// Which output a run gives: the mode its temperature was fitted for (calibration.json records it),
// which is the run's default. Asking for the other mode without refitting would show uncalibrated
// probabilities as calibrated ones, so it is an error that says how to refit.
import type { TtaMode } from '../train/index.js';
import { requireCalibration, type LoadedRun } from './load-run.js';

export function parseTtaMode(value: string, option = '--tta'): TtaMode {
  if (value !== 'on' && value !== 'off') throw new Error(`${option} must be on or off, got "${value}"`);
  return value;
}

/** The mode to predict in: the one the run is calibrated for, or `requested` when that is the same. */
export function calibratedTtaMode(run: LoadedRun, requested?: TtaMode): TtaMode {
  const fitted = requireCalibration(run).tta;
  if (requested === undefined || requested === fitted) return fitted;
  const data = run.members ? ' <data>' : '';
  throw new Error(`${run.dir} is calibrated for test-time augmentation ${fitted}, so probabilities with --tta ${requested} would not be calibrated; refit it with "aplnet evaluate ${run.dir}${data} --tta ${requested}" (that makes ${requested} the run's default), or leave --tta out`);
}
