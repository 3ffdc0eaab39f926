import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { presetConfig, presetNames } from '../../model/index.js';
import { calibratedTtaMode, disposeRun, loadRun, parseTtaMode, runPath, teacherSoftTargets, type LoadedRun, type TtaMode } from '../../run/index.js';
import { DISTILL_DEFAULTS, distillRun, type TrainingConfig } from '../../train/index.js';
import { selectDevice } from '../device.js';
import { int, num, threadCount } from '../parse-options.js';

const STUDENT_DEFAULT = 'aplnet-s-ap';

/**
 * The student's split: an ensemble of folds learned from every image, so the student trains on 85%
 * of them and validates on the rest (no test split: evaluate it on other images, as the ensemble);
 * a single teacher's own split (same data, seed and fractions give the same split), so the student
 * is tested on exactly the teacher's held-out images.
 */
function studentSplit(teacher: LoadedRun): Partial<TrainingConfig> {
  const training = teacher.config.training;
  if (teacher.members) return { split: { train: 0.85, val: 0.15, test: 0 }, seed: training.seed };
  if (teacher.config.splitKind === 'manifest') return { seed: training.seed };
  return { split: training.split, seed: training.seed };
}

/** A single teacher's test images must be the student's: otherwise the student would train on them. */
function checkSameTest(teacher: LoadedRun, studentDir: string): void {
  if (teacher.members) return;
  const testOf = (dir: string) => Object.entries(JSON.parse(readFileSync(runPath(dir, 'split'), 'utf8')).assignments as Record<string, string>).filter(([, s]) => s === 'test').map(([k]) => k).sort().join('\n');
  if (testOf(teacher.dir) !== testOf(studentDir)) throw new Error(`the student's test split differs from the teacher's (${teacher.dir}); its test figures would include images the teacher trained on. Do not use ${studentDir}.`);
}

export function registerDistill(program: Command): void {
  program
    .command('distill')
    .description("train one fast student on a teacher's calibrated probabilities (an ensemble from train --folds, or any run): KL at a temperature plus alpha × cross-entropy with the labels, on the teacher's training images; writes a normal run folder")
    .argument('<teacher>', 'ensemble folder made by "aplnet train --folds k", or a run folder')
    .requiredOption('--out <run>', 'student run folder to create')
    .option('--model <preset>', `student preset with an attention-pool head: ${presetNames().filter((name) => presetConfig(name, 2).head === 'attention-pool').join(', ')} (default: ${STUDENT_DEFAULT})`)
    .option('--epochs <n>', 'epochs (default: the training default)', int('--epochs'))
    .option('--temperature <t>', `softmax temperature of the KL term (default: ${DISTILL_DEFAULTS.temperature})`, num('--temperature'))
    .option('--alpha <a>', `weight of the cross-entropy with the labels (default: ${DISTILL_DEFAULTS.alpha})`, num('--alpha'))
    .option('--tta <on|off>', "the teacher's mode for its soft targets (default: the mode it is calibrated for)", (v: string) => parseTtaMode(v))
    .option('--batch <n>', 'batch size (default: the training default)', int('--batch'))
    .option('--lr <rate>', 'peak learning rate (default: the training default)', num('--lr'))
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--workers <n>', 'worker threads for augmentation', int('--workers'))
    .option('--cache-dir <dir>', 'decoded-pixel cache (default: ~/.cache/aplnet)')
    .action(async (teacherDir: string, o: Record<string, unknown>) => {
      const model = (o.model as string | undefined) ?? STUDENT_DEFAULT;
      if (presetConfig(model, 2).head !== 'attention-pool') throw new Error(`--model ${model} has no attention-pool head; the student keeps the head its maps are read from: choose an -ap preset`);
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const teacher = await loadRun(teacherDir, { device });
      try {
        const tta = calibratedTtaMode(teacher, o.tta as TtaMode | undefined);
        const targets = await teacherSoftTargets(teacher, tta, { cacheDir: o.cacheDir as string | undefined, workers: o.workers as number | undefined });
        const typed: Partial<TrainingConfig> & { data: string } = { data: teacher.config.training.data, model, ...studentSplit(teacher) };
        for (const key of ['epochs', 'batch', 'lr', 'device', 'threads', 'workers', 'cacheDir'] as const) if (o[key] !== undefined) (typed as Record<string, unknown>)[key] = o[key];
        const settings = { temperature: (o.temperature as number | undefined) ?? DISTILL_DEFAULTS.temperature, alpha: (o.alpha as number | undefined) ?? DISTILL_DEFAULTS.alpha };
        const members = (teacher.members ?? [teacher]).map((member) => member.dir);
        const result = await distillRun(typed, o.out as string, targets, settings, { teacher: teacher.dir, members, tta });
        if (result.reason === 'interrupted') {
          process.exitCode = 130;
          return;
        }
        checkSameTest(teacher, result.runDir);
        console.log(`student saved in ${result.runDir} (best validation macro-F1 ${result.bestValMacroF1.toFixed(4)} at epoch ${result.bestEpoch}); distilled from ${teacher.dir}`);
      } finally {
        disposeRun(teacher);
      }
    });
}
