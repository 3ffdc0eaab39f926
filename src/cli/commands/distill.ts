import type { Command } from 'commander';
import { presetConfig, presetNames } from '../../model/index.js';
import { DEFAULT_STUDENT, disposeRun, distillTeacher, loadRun, parseTtaMode, type TtaMode } from '../../run/index.js';
import { DISTILL_DEFAULTS, type TrainingConfig } from '../../train/index.js';
import { selectDevice } from '../device.js';
import { int, num, threadCount } from '../parse-options.js';

export function registerDistill(program: Command): void {
  program
    .command('distill')
    .description("train one fast student on a teacher's calibrated probabilities (an ensemble from train --folds, or any run): KL at a temperature plus alpha × cross-entropy with the labels, on the teacher's training images; writes a normal run folder")
    .argument('<teacher>', 'ensemble folder made by "aplnet train --folds k", or a run folder')
    .requiredOption('--out <run>', 'student run folder to create')
    .option('--model <preset>', `student preset with an attention-pool head: ${presetNames().filter((name) => presetConfig(name, 2).head === 'attention-pool').join(', ')} (default: ${DEFAULT_STUDENT})`)
    .option('--epochs <n>', 'epochs (default: the training default)', int('--epochs'))
    .option('--temperature <t>', `softmax temperature of the KL term (default: ${DISTILL_DEFAULTS.temperature})`, num('--temperature'))
    .option('--alpha <a>', `weight of the cross-entropy with the labels (default: ${DISTILL_DEFAULTS.alpha})`, num('--alpha'))
    .option('--tta <on|off>', "the teacher's mode for its soft targets (default: the mode it is calibrated for)", (v: string) => parseTtaMode(v))
    .option('--batch <n>', 'batch size (default: the training default)', int('--batch'))
    .option('--lr <rate>', 'peak learning rate (default: the training default)', num('--lr'))
    .option('--patience <n>', 'stop after n epochs without a better validation macro-F1 (default: 0, the whole schedule)', int('--patience'))
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--workers <n>', 'worker threads for augmentation', int('--workers'))
    .option('--cache-dir <dir>', 'decoded-pixel cache (default: ~/.cache/aplnet)')
    .action(async (teacherDir: string, o: Record<string, unknown>) => {
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const teacher = await loadRun(teacherDir, { device });
      try {
        const training: Partial<TrainingConfig> = {};
        for (const key of ['epochs', 'batch', 'lr', 'patience', 'device', 'threads', 'workers', 'cacheDir'] as const) if (o[key] !== undefined) (training as Record<string, unknown>)[key] = o[key];
        const result = await distillTeacher(teacher, o.out as string, {
          model: o.model as string | undefined, temperature: o.temperature as number | undefined, alpha: o.alpha as number | undefined, tta: o.tta as TtaMode | undefined,
          cacheDir: o.cacheDir as string | undefined, workers: o.workers as number | undefined, training,
        });
        if (result.reason === 'interrupted') {
          process.exitCode = 130;
          return;
        }
        console.log(`student saved in ${result.runDir} (best validation macro-F1 ${result.bestValMacroF1.toFixed(4)} at epoch ${result.bestEpoch}); distilled from ${teacher.dir}`);
      } finally {
        disposeRun(teacher);
      }
    });
}
