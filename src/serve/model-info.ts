// What the page's "model" panel shows: the model card of a run, read from its folder on the main
// thread (no tensors needed). Built from a list of what a user of the page needs, never by passing
// run files through: config.json and metrics.json hold absolute paths (the run folder, the
// training data) that must not leave the machine through the API.
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
  /** Numbers only: the calibrated image-level metrics of `aplnet evaluate`, else the last training epoch's. */
  metrics: Record<string, number> | null;
  hasReport: boolean;
  intendedUse: string;
}

const INTENDED_USE =
  'Research and decision support only; not a diagnosis. Probabilities are calibrated on the run\'s validation split; ' +
  'images below the referral threshold should be reviewed by a specialist. Valid only for images like those it was trained on ' +
  '(same stain, magnification and scanner).';

function numbersOf(record: unknown): Record<string, number> | null {
  if (typeof record !== 'object' || record === null) return null;
  const numbers = Object.entries(record).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]));
  return numbers.length ? Object.fromEntries(numbers) : null;
}

function runMetrics(runDir: string): Record<string, number> | null {
  const summary = runPath(runDir, 'metrics');
  if (existsSync(summary)) {
    const evaluation = readJson<{ calibrated?: { images?: unknown } }>(summary, 'metrics');
    return numbersOf(evaluation.calibrated?.images);
  }
  const log = runPath(runDir, 'metricsLog');
  if (!existsSync(log)) return null;
  const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  return lines.length ? numbersOf(JSON.parse(lines[lines.length - 1])) : null;
}

/** The fitted-on label is a split name; anything else (a path, say) is not shown. */
const splitName = (value: unknown): string => (typeof value === 'string' && /^[\w -]{1,40}$/.test(value) ? value : 'unknown');

export function readModelInfo(runDir: string): ModelInfo {
  const config = readRunConfig(runDir);
  const classes = readJson<string[]>(runPath(runDir, 'classes'), 'class names');
  const calibrationPath = runPath(runDir, 'calibration');
  const calibration = existsSync(calibrationPath)
    ? readJson<Calibration>(calibrationPath, 'calibration')
    : { temperature: 1, referralThreshold: DEFAULT_REFERRAL_THRESHOLD, fittedOn: 'none' };
  return {
    name: config.model.name,
    classes,
    inputSize: config.model.inputSize,
    createdAt: config.createdAt,
    aplnetVersion: config.aplnetVersion,
    calibration: { temperature: calibration.temperature, referralThreshold: calibration.referralThreshold, fittedOn: splitName(calibration.fittedOn) },
    metrics: runMetrics(runDir),
    hasReport: existsSync(runPath(runDir, 'report')),
    intendedUse: INTENDED_USE,
  };
}
