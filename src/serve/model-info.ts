// What the page's "model" panel shows: the model card of a run, read from its folder on the main
// thread (no tensors needed). Built from a list of what a user of the page needs, never by passing
// run files through: config.json and metrics.json hold absolute paths (the run folder, the
// training data) that must not leave the machine through the API.
import { existsSync, readFileSync } from 'node:fs';
import { describeFraming, validatePreprocessing, type Preprocessing } from '../data/index.js';
import { defaultExplainMethods, type ExplainMethod } from '../explain/index.js';
import { readJson } from '../io/index.js';
import { parseModelConfig } from '../model/index.js';
import { describingFolder, isEnsembleFolder, MEMBERS_CALIBRATION, readRunConfig, runPath, type Calibration } from '../run/index.js';

export interface ModelInfo {
  name: string;
  classes: string[];
  inputSize: number;
  /** What part of an uploaded image the model reads, in words (resize and zoom from preprocessing.json). */
  framing: string;
  createdAt: string;
  aplnetVersion: string;
  calibration: { temperature: number; referralThreshold: number; fittedOn: string };
  /**
   * The headline test figures of `aplnet evaluate` with their 95% bootstrap intervals, as text
   * (e.g. "accuracy": "96.4% (95% CI 94.9–97.6)"); else the last training epoch's numbers.
   */
  metrics: Record<string, string> | null;
  hasReport: boolean;
  /** The maps the page asks for unless told otherwise: the model's own map first (see defaultExplainMethods). */
  defaultMaps: ExplainMethod[];
  intendedUse: string;
}

const INTENDED_USE =
  'Research and decision support only; not a diagnosis. Probabilities are calibrated on the run\'s validation split; ' +
  'images below the referral threshold should be reviewed by a specialist. Valid only for images like those it was trained on ' +
  '(same stain, magnification and scanner).';

/** Only short figures pass: a name and a value made of digits, signs, units and words like "95% CI". */
const SAFE_FIGURE = /^[\w .%()+\-–,]{1,80}$/;

function figuresOf(record: unknown): Record<string, string> | null {
  if (typeof record !== 'object' || record === null) return null;
  const figures: [string, string][] = [];
  for (const [name, value] of Object.entries(record)) {
    const text = typeof value === 'number' && Number.isFinite(value) ? (Number.isInteger(value) ? String(value) : value.toFixed(3)) : value;
    if (typeof text === 'string' && SAFE_FIGURE.test(name) && SAFE_FIGURE.test(text)) figures.push([name, text]);
  }
  return figures.length ? Object.fromEntries(figures) : null;
}

function runMetrics(runDir: string): Record<string, string> | null {
  const summary = runPath(runDir, 'metrics');
  if (existsSync(summary)) return figuresOf(readJson<{ summary?: unknown }>(summary, 'metrics').summary);
  const log = runPath(runDir, 'metricsLog');
  if (!existsSync(log)) return null;
  const lines = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  return lines.length ? figuresOf(JSON.parse(lines[lines.length - 1])) : null;
}

/** The fitted-on label is a split name; anything else (a path, say) is not shown. */
const splitName = (value: unknown): string => (typeof value === 'string' && /^[\w -]{1,40}$/.test(value) ? value : 'unknown');

export function readModelInfo(runDir: string): ModelInfo {
  // An ensemble of folds is described by its first member; it averages calibrated probabilities (T = 1).
  const files = describingFolder(runDir);
  const config = readRunConfig(files);
  const classes = readJson<string[]>(runPath(files, 'classes'), 'class names');
  // The worker refuses a run whose calibration is missing or invalid, so the server never starts with one.
  const member = readJson<Calibration>(runPath(files, 'calibration'), 'the run has no calibration; see "aplnet train --resume" or "aplnet evaluate"');
  const calibration = isEnsembleFolder(runDir) ? { ...member, temperature: 1, fittedOn: MEMBERS_CALIBRATION } : member;
  return {
    name: config.model.name,
    classes,
    inputSize: config.model.inputSize,
    framing: describeFraming(validatePreprocessing(readJson<{ preprocessing: Preprocessing }>(runPath(files, 'preprocessing'), 'preprocessing').preprocessing)),
    createdAt: config.createdAt,
    aplnetVersion: config.aplnetVersion,
    calibration: { temperature: calibration.temperature, referralThreshold: calibration.referralThreshold, fittedOn: splitName(calibration.fittedOn) },
    metrics: runMetrics(runDir),
    hasReport: existsSync(runPath(runDir, 'report')),
    defaultMaps: defaultExplainMethods({ config: parseModelConfig(config.model, runPath(runDir, 'config')) }),
    intendedUse: INTENDED_USE,
  };
}
