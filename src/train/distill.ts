// Distillation (Hinton et al., 2015): one student network learns from a teacher's calibrated
// probabilities (an ensemble of folds: k forward passes per image, and eight more each under TTA)
// so that one pass gives most of the ensemble's accuracy. The student is a normal run: trained by
// trainRun with its own split, validated, calibrated and checked like any other; distillation.json
// beside it says what it learned from, so evaluate can refuse images the teacher learned from.
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../io/index.js';
import { F, fromTypedArray, type Tensor } from '../torch/index.js';
import { trainRun, type TrainResult } from './fit.js';
import type { TrainingLoss } from './learner.js';
import type { TrainingConfig } from './training-config.js';

export const DISTILLATION_FILE = 'distillation.json';

export const DISTILL_DEFAULTS = { temperature: 2, alpha: 0.5 } as const;

export interface DistillSettings {
  /** Softmax temperature τ of both sides of the KL term (higher: more weight on the teacher's runner-up classes). */
  temperature: number;
  /** Weight α of the cross-entropy with the labels beside τ²·KL. */
  alpha: number;
}

/** The teacher's calibrated log-probabilities of its training images, by the image's absolute path. */
export interface TeacherTargets {
  classNames: string[];
  byPath: Map<string, Float32Array>;
}

export const DistillationRecordSchema = z.object({
  teacher: z.string().min(1),
  members: z.array(z.string()),
  tta: z.enum(['on', 'off']),
  temperature: z.number().positive(),
  alpha: z.number().min(0),
  images: z.number().int().nonnegative(),
});
export type DistillationRecord = z.infer<typeof DistillationRecordSchema>;

export function checkDistillSettings({ temperature, alpha }: DistillSettings): void {
  if (!(Number.isFinite(temperature) && temperature > 0 && temperature <= 100)) throw new Error(`--temperature must be a number in (0, 100], got ${temperature}`);
  if (!(Number.isFinite(alpha) && alpha >= 0 && alpha <= 100)) throw new Error(`--alpha must be a number in [0, 100], got ${alpha}`);
}

/** The teacher's rows for a batch's paths, [B, C] on `device`; a path the teacher has no answer for is an error naming it. */
export function teacherRows(targets: TeacherTargets, paths: readonly string[], device: string): Tensor {
  const classes = targets.classNames.length;
  const rows = new Float32Array(paths.length * classes);
  paths.forEach((path, i) => {
    const row = targets.byPath.get(path);
    if (!row) throw new Error(`the teacher gave no soft target for ${path}; the student can only train on images the teacher answered`);
    rows.set(row, i * classes);
  });
  return fromTypedArray(rows, [paths.length, classes], { device });
}

/** loss = τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) + α·CE(s, y), t the teacher's log-probabilities, s the student's logits. */
export function distillationLoss(targets: TeacherTargets, settings: DistillSettings): TrainingLoss {
  const tau = settings.temperature;
  return (logits, y, paths) => {
    const logTeacher = teacherRows(targets, paths, logits.device).div(tau).logSoftmax(1);
    const logStudent = logits.div(tau).logSoftmax(1);
    const kl = logTeacher.exp().mul(logTeacher.sub(logStudent)).sum(1).mean().mul(tau * tau);
    return settings.alpha > 0 ? kl.add(F.crossEntropy(logits, y).mul(settings.alpha)) : kl;
  };
}

/** Trains the student into studentDir on the teacher's soft targets, then records where they came from. */
export async function distillRun(options: Partial<TrainingConfig> & { data: string }, studentDir: string, targets: TeacherTargets, settings: DistillSettings, teacher: Omit<DistillationRecord, 'temperature' | 'alpha' | 'images'>, log = (line: string) => console.error(line)): Promise<TrainResult> {
  checkDistillSettings(settings);
  log(`distilling ${teacher.teacher} (${targets.byPath.size} soft targets, TTA ${teacher.tta}) at τ = ${settings.temperature}, α = ${settings.alpha}`);
  const result = await trainRun(options, studentDir, { log, loss: distillationLoss(targets, settings) });
  if (result.reason !== 'interrupted') {
    writeJsonAtomic(join(result.runDir, DISTILLATION_FILE), DistillationRecordSchema.parse({ ...teacher, ...settings, images: targets.byPath.size }));
  }
  return result;
}
