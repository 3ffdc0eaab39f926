// What the page's "model" panel shows: the model card of a run, read from its folder on the main
// thread (no tensors needed). Paths of training data are left out: the card may be shared.
import { existsSync, readFileSync } from 'node:fs';
import { readJson } from '../io/index.js';
import { readRunConfig, runPath, DEFAULT_REFERRAL_THRESHOLD, type Calibration } from '../run/index.js';

export interface ModelInfo {
  name: string;
  classes: string[];
  inputSize: number;
  createdAt: string;
  aplnetVersion: string;
  calibration: { temperature: number; referralThreshold: number; fittedOn: string };
  training: Record<string, unknown>;
  /** metrics.json of the run when present, otherwise the last epoch of metrics.jsonl. */
  metrics: Record<string, unknown> | null;
  hasReport: boolean;
  intendedUse: string;
}

const INTENDED_USE =
  'Research and decision support only; not a diagnosis. Probabilities are calibrated on the run\'s validation split; ' +
  'images below the referral threshold should be reviewed by a specialist. Valid only for images like those it was trained on ' +
  '(same stain, magnification and scanner).';

function lastMetrics(runDir: string): Record<string, unknown> | null {
  const summary = runPath(runDir, 'metrics');
  if (existsSync(summary)) return readJson<Record<string, unknown>>(summary, 'metrics');
  const log = runPath(runDir, 'metricsLog');
  if (!existsSync(log)) return null;
  const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  return lines.length ? (JSON.parse(lines[lines.length - 1]) as Record<string, unknown>) : null;
}

export function readModelInfo(runDir: string): ModelInfo {
  const config = readRunConfig(runDir);
  const classes = readJson<string[]>(runPath(runDir, 'classes'), 'class names');
  const calibrationPath = runPath(runDir, 'calibration');
  const calibration = existsSync(calibrationPath)
    ? readJson<Calibration>(calibrationPath, 'calibration')
    : { temperature: 1, referralThreshold: DEFAULT_REFERRAL_THRESHOLD, fittedOn: 'none' };
  const { data: _data, cacheDir: _cacheDir, ...training } = config.training as unknown as Record<string, unknown>;
  return {
    name: config.model.name,
    classes,
    inputSize: config.model.inputSize,
    createdAt: config.createdAt,
    aplnetVersion: config.aplnetVersion,
    calibration: { temperature: calibration.temperature, referralThreshold: calibration.referralThreshold, fittedOn: calibration.fittedOn },
    training,
    metrics: lastMetrics(runDir),
    hasReport: existsSync(runPath(runDir, 'report')),
    intendedUse: INTENDED_USE,
  };
}
