import type { Command } from 'commander';
import { trainFolds, trainRun } from '../../train/index.js';
import { int, num } from '../parse-options.js';

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a classifier on a folder of class folders or a CSV manifest (path,label[,patient_id][,split])')
    .argument('<data>', 'dataset folder (root/<class>/*.jpg|png|tif|bmp) or CSV manifest')
    .requiredOption('--out <run>', 'run folder to create (or to continue with --resume)')
    .option('--model <preset>', 'model preset: aplnet-s, aplnet-m, aplnet-l', 'aplnet-s')
    .option('--size <px>', 'input side in pixels (default: the preset\'s)', int('--size'))
    .option('--epochs <n>', 'epochs', int('--epochs'), 30)
    .option('--batch <n>', 'batch size', int('--batch'), 32)
    .option('--lr <rate>', 'peak learning rate (AdamW)', num('--lr'), 2e-3)
    .option('--weight-decay <wd>', 'AdamW weight decay (conv and linear weights)', num('--weight-decay'), 0.05)
    .option('--warmup-epochs <n>', 'linear warm-up before the decay', num('--warmup-epochs'), 1)
    .option('--schedule <kind>', 'cosine or one-cycle', 'cosine')
    .option('--label-smoothing <s>', 'cross-entropy label smoothing', num('--label-smoothing'), 0.05)
    .option('--patience <n>', 'early stopping: epochs without a better validation macro-F1 (0 = off)', int('--patience'), 8)
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', int('--threads'))
    .option('--seed <n>', 'seed for splits, shuffling, augmentation and initialization', int('--seed'), 0)
    .option('--folds <k>', 'k-fold cross-validation: trains k runs into <run>/fold-i', int('--folds'))
    .option('--balance <how>', 'class imbalance: none, weights (weighted loss) or sampler', 'none')
    .option('--no-augment', 'turn off augmentation')
    .option('--stain-norm <method>', 'stain normalization fitted on the training set: none, macenko, reinhard', 'none')
    .option('--resize <how>', 'center-crop (shorter side) or letterbox', 'center-crop')
    .option('--on-bad-image <policy>', 'skip (report and continue) or fail', 'skip')
    .option('--workers <n>', 'worker threads for augmentation (default: min(2, cores))', int('--workers'))
    .option('--cache-dir <dir>', 'decoded-pixel cache (default: ~/.cache/aplnet)')
    .option('--resume', 'continue the run in --out exactly where it stopped')
    .action(async (data: string, o: Record<string, unknown>) => {
      const options = {
        data, model: o.model, size: o.size, epochs: o.epochs, batch: o.batch, lr: o.lr, weightDecay: o.weightDecay,
        warmupEpochs: o.warmupEpochs, schedule: o.schedule, labelSmoothing: o.labelSmoothing, patience: o.patience,
        device: o.device, threads: o.threads, seed: o.seed, folds: o.folds, balance: o.balance, augment: o.augment,
        stainNorm: o.stainNorm, resize: o.resize, onBadImage: o.onBadImage, workers: o.workers, cacheDir: o.cacheDir,
      } as Record<string, unknown>;
      for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
      if (options.folds !== undefined && !o.resume) {
        await trainFolds(options, o.out as string);
        return;
      }
      const result = await trainRun(options, o.out as string, { resume: Boolean(o.resume) });
      if (result.reason === 'interrupted') process.exitCode = 130;
    });
}
