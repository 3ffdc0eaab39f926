// Distilling a loaded teacher (an ensemble of folds, or one run) into a student run folder: the
// teacher's soft targets of its training data, the student's split, and the training itself
// (train/distill.ts). distill's command and the accuracy benchmark both call this.
import { readFileSync } from 'node:fs';
import { presetConfig } from '../model/index.js';
import { DISTILL_DEFAULTS, distillRun, runPath, type DistillSettings, type TrainingConfig, type TrainResult, type TtaMode } from '../train/index.js';
import { teacherSoftTargets } from './ensemble-soft-targets.js';
import type { DatasetReadOptions } from './ensemble-probabilities.js';
import type { LoadedRun } from './load-run.js';
import { calibratedTtaMode } from './tta-mode.js';

export const DEFAULT_STUDENT = 'aplnet-s-ap';

export interface DistillTeacherOptions extends Partial<DistillSettings>, DatasetReadOptions {
  /** Student preset; it must have the attention-pool head. */
  model?: string;
  /** The teacher's mode for its soft targets (default: the one it is calibrated for). */
  tta?: TtaMode;
  /** Training options of the student the user typed (epochs, batch, lr, device, threads, …). */
  training?: Partial<TrainingConfig>;
  log?: (line: string) => void;
}

/**
 * The student's split: an ensemble of folds learned from every image, so the student trains on 85%
 * of them and validates on the rest (no test split: it is evaluated on other images, like the
 * ensemble); a single teacher's own split (same data, seed and fractions give the same split), so
 * the student is tested on exactly the teacher's held-out images.
 */
function studentSplit(teacher: LoadedRun): Partial<TrainingConfig> {
  const training = teacher.config.training;
  if (teacher.members) return { split: { train: 0.85, val: 0.15, test: 0 }, seed: training.seed };
  if (teacher.config.splitKind === 'manifest') return { seed: training.seed };
  return { split: training.split, seed: training.seed };
}

/**
 * The student reads an image as its teacher does: the same resize and zoom (an automatic zoom as the
 * teacher resolved it), so the soft targets describe the pixels the student is given.
 */
function teacherFraming(teacher: LoadedRun): Partial<TrainingConfig> {
  const { resize, zoom } = teacher.inference.preprocessing;
  return { resize, zoom: zoom ?? 1 };
}

/** A single teacher's test images must be the student's: otherwise the student would have trained on some. */
function checkSameTest(teacher: LoadedRun, studentDir: string): void {
  if (teacher.members) return;
  const testOf = (dir: string) => Object.entries(JSON.parse(readFileSync(runPath(dir, 'split'), 'utf8')).assignments as Record<string, string>).filter(([, s]) => s === 'test').map(([k]) => k).sort().join('\n');
  if (testOf(teacher.dir) !== testOf(studentDir)) throw new Error(`the student's test split differs from the teacher's (${teacher.dir}), so its test figures would include images the teacher trained on; do not use ${studentDir}`);
}

export async function distillTeacher(teacher: LoadedRun, studentDir: string, options: DistillTeacherOptions = {}): Promise<TrainResult> {
  const model = options.model ?? DEFAULT_STUDENT;
  if (presetConfig(model, 2).head !== 'attention-pool') throw new Error(`--model ${model} has no attention-pool head; the student keeps the head its maps are read from: choose an -ap preset`);
  const tta = calibratedTtaMode(teacher, options.tta);
  const targets = await teacherSoftTargets(teacher, tta, options);
  const settings = { temperature: options.temperature ?? DISTILL_DEFAULTS.temperature, alpha: options.alpha ?? DISTILL_DEFAULTS.alpha };
  const members = (teacher.members ?? [teacher]).map((member) => member.dir);
  // The student runs its whole schedule unless asked: stopped by patience, a cosine schedule loses
  // the low-learning-rate epochs that make most of its accuracy (measured: a 5-fold ensemble's
  // student stopped at epoch 16 of 30 with validation macro-F1 0.901, its best at epoch 8).
  const result = await distillRun({ patience: 0, ...teacherFraming(teacher), ...options.training, data: teacher.config.training.data, model, ...studentSplit(teacher) }, studentDir, targets, settings, { teacher: teacher.dir, members, tta }, options.log);
  if (result.reason !== 'interrupted') checkSameTest(teacher, result.runDir);
  return result;
}
