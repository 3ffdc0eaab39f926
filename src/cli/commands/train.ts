import type { Command } from 'commander';
import { presetNames } from '../../model/index.js';
import { caseLabelTrainingNote, recordCaseLevelAfterTraining } from '../../run/index.js';
import { TRAINING_DEFAULTS as D, trainFolds, trainRun } from '../../train/index.js';
import { worldFromEnv } from '../../torch/index.js';
import { exitWithLauncher, launchRanks, threadsPerRank, withoutOption } from '../launch-ranks.js';
import { int, intIn, num, numberOrAuto, threadCount, unitInterval } from '../parse-options.js';

/** Help text with the schema's default; the option itself has none, so only typed values are passed on. */
const withDefault = (text: string, value: unknown): string => `${text} (default: ${typeof value === 'object' ? JSON.stringify(value) : String(value)})`;

function splitFractions(value: string): { train: number; val: number; test: number } {
  const parts = value.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p))) throw new Error(`--split needs three fractions train,val,test such as 0.7,0.15,0.15; got "${value}"`);
  return { train: parts[0], val: parts[1], test: parts[2] };
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a classifier on a folder of class folders or a CSV manifest (path,label[,patient_id][,split]); a split column is honoured as written')
    .argument('<data>', 'dataset folder (root/<class>/*.jpg|png|tif|bmp) or CSV manifest')
    .requiredOption('--out <run>', 'run folder to create (or to continue with --resume)')
    .option('--model <preset>', withDefault(`model preset: ${presetNames().join(', ')}`, D.model))
    .option('--size <px>', "input side in pixels (default: the preset's)", int('--size'))
    .option('--epochs <n>', withDefault('epochs', D.epochs), int('--epochs'))
    .option('--batch <n>', withDefault('batch size', D.batch), int('--batch'))
    .option('--lr <rate>', withDefault('peak learning rate (AdamW)', D.lr), num('--lr'))
    .option('--weight-decay <wd>', withDefault('AdamW weight decay (conv and linear weights)', D.weightDecay), num('--weight-decay'))
    .option('--warmup-epochs <n>', withDefault('linear warm-up before the decay', D.warmupEpochs), num('--warmup-epochs'))
    .option('--schedule <kind>', withDefault('cosine or one-cycle', D.schedule))
    .option('--label-smoothing <s>', withDefault('cross-entropy label smoothing', D.labelSmoothing), num('--label-smoothing'))
    .option('--keep <epoch>', withDefault('which epoch becomes the model: best (validation macro-F1) or last (the end of the schedule; for case labels on cells, with --patience 0)', D.keep))
    .option('--patience <n>', withDefault('early stopping: epochs without a better validation macro-F1 (0 = off)', D.patience), int('--patience'))
    .option('--split <fractions>', withDefault('train,val,test fractions when the data has no split column', `${D.split.train},${D.split.val},${D.split.test}`), splitFractions)
    .option('--device <device>', withDefault('cpu, cuda, cuda:N or auto', D.device))
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--seed <n>', withDefault('seed for splits, shuffling, augmentation and initialization', D.seed), int('--seed'))
    .option('--folds <k>', 'k-fold cross-validation: trains k runs into <run>/fold-i', int('--folds'))
    .option('--balance <how>', withDefault('class imbalance: none, weights (weighted loss) or sampler', D.balance))
    .option('--no-augment', 'turn off augmentation')
    .option('--stain-norm <method>', withDefault('stain normalization fitted on the training set: none, macenko, reinhard', D.stainNorm))
    .option('--resize <how>', withDefault('center-crop (shorter side) or letterbox', D.resize))
    .option('--zoom <factor|auto>', withDefault('center-crop: keep the middle 1/factor of the shorter side (the cell) before resizing, in [1, 4]; auto: the largest quarter step that keeps 95% of the training cells whole, measured on them first (1 when it cannot tell)', D.zoom), numberOrAuto('--zoom'))
    .option('--on-bad-image <policy>', withDefault('skip (report and continue) or fail', D.onBadImage))
    .option('--workers <n>', 'worker threads for augmentation (default: min(2, cores))', int('--workers'))
    .option('--cache-dir <dir>', 'decoded-pixel cache (default: ~/.cache/aplnet)')
    .option('--mixup <alpha>', withDefault('mixup: Beta(alpha, alpha) blend of image pairs and their targets (0 = off)', D.mixup), num('--mixup'))
    .option('--cutmix <alpha>', withDefault('CutMix: a box from the paired image, targets by area, Beta(alpha, alpha) (0 = off)', D.cutmix), num('--cutmix'))
    .option('--mix-probability <p>', withDefault('share of batches mixed when --mixup or --cutmix is on', D.mixProbability), unitInterval('--mix-probability'))
    .option('--ema <decay>', withDefault('exponential moving average of the weights, e.g. 0.99; the average is validated and saved (0 = off)', D.ema), num('--ema'))
    .option('--drop-path <rate>', withDefault('stochastic depth: drop rate of the last residual branch, earlier ones linearly less (0 = off)', D.dropPath), num('--drop-path'))
    .option('--attention-entropy <weight>', withDefault("attention-pool presets: weight of the map's normalised entropy in the loss, for a sharper map (0 = off)", D.attentionEntropy), num('--attention-entropy'))
    .option('--rotation <kind>', withDefault('quarter (90° turns + ±15° jitter) or any (uniform angle in [0°, 360°))', D.rotation))
    .option('--rotation-fill <how>', withDefault('corners a rotation uncovers: reflect or background (border median colour)', D.rotationFill))
    .option('--stain-jitter <factor>', withDefault('multiplies the stain (HED) jitter; 0 = off', D.stainJitter), num('--stain-jitter'))
    .option('--nproc <n>', 'data-parallel: start n local processes (torchrun\'s environment, Gloo on CPU, NCCL on CUDA); --batch stays the global batch, split between them', intIn('--nproc', 1, 256))
    .option('--sync-bn', 'data-parallel: batch norm with the global batch\'s statistics instead of each process\'s')
    .option('--resume', 'continue the run in --out exactly where it stopped (only --epochs, --device, --threads, --workers, --cache-dir may be given again)')
    .action(async (data: string, o: Record<string, unknown>, command: Command) => {
      // Only what the user typed: commander reports 'default' for options left out (--no-augment's implicit true).
      const typed: Record<string, unknown> = { data };
      for (const key of ['model', 'size', 'epochs', 'batch', 'lr', 'weightDecay', 'warmupEpochs', 'schedule', 'labelSmoothing', 'keep', 'patience', 'split', 'device', 'threads', 'seed', 'folds', 'balance', 'augment', 'stainNorm', 'resize', 'zoom', 'onBadImage', 'workers', 'cacheDir', 'mixup', 'cutmix', 'mixProbability', 'ema', 'dropPath', 'attentionEntropy', 'rotation', 'rotationFill', 'stainJitter', 'syncBn']) {
        if (o[key] !== undefined && command.getOptionValueSource(key) !== 'default') typed[key] = o[key];
      }
      const nproc = o.nproc as number | undefined;
      if (nproc !== undefined && nproc > 1) {
        if (typed.folds !== undefined) throw new Error('--nproc trains one run at a time: train each fold with --fold i and --nproc, or drop --nproc');
        const args = withoutOption(process.argv.slice(2), '--nproc');
        if (typed.threads === undefined) args.push('--threads', String(threadsPerRank(nproc)));
        process.exitCode = await launchRanks(nproc, args);
        return;
      }
      // Under torchrun, a PyTorchJob or --nproc, this process is one rank of a data-parallel world.
      const world = worldFromEnv();
      if (world && typed.folds !== undefined) throw new Error('a data-parallel rank trains one run: pass --fold i instead of --folds');
      if (world) exitWithLauncher();
      if (typed.folds !== undefined && !o.resume) {
        const results = await trainFolds(typed, o.out as string);
        if (results.some((r) => r.reason === 'interrupted')) process.exitCode = 130;
        return;
      }
      if (typed.folds !== undefined) throw new Error('--resume continues one run: pass the fold folder (<run>/fold-i) as --out, without --folds');
      if (!o.resume && !world) {
        const note = await caseLabelTrainingNote(data, (typed.keep as 'best' | 'last' | undefined) ?? D.keep);
        if (note) console.error(note);
      }
      const result = await trainRun(typed, o.out as string, { resume: Boolean(o.resume), world });
      if (result.reason === 'interrupted') process.exitCode = 130;
      // A data-parallel world has ended its process group by now: its case level is recorded by evaluate.
      else if (!world) await recordCaseLevelAfterTraining(o.out as string, { device: typed.device as string | undefined, cacheDir: typed.cacheDir as string | undefined, workers: typed.workers as number | undefined });
    });
}
