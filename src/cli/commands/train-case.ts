import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { loadRun } from '../../run/index.js';
import { CASE_HEAD_DEFAULTS, DEFAULT_CASE_ENCODER, DEFAULT_CASE_FOLDS, DEFAULT_CASE_HEADS, FINE_TUNE_DEFAULTS, trainCaseModel } from '../../train/index.js';
import type { CaseEncoder, CaseMilPooling } from '../../model/index.js';
import { selectDevice } from '../device.js';
import { int, intIn, threadCount } from '../parse-options.js';

const poolingMode = (value: string): CaseMilPooling => {
  if (value !== 'attention' && value !== 'attention-mean') throw new InvalidArgumentError(`--pooling must be attention or attention-mean, got "${value}"`);
  return value;
};

const encoderKind = (value: string): CaseEncoder => {
  if (value !== 'frozen' && value !== 'fine-tune') throw new InvalidArgumentError(`--encoder must be frozen or fine-tune, got "${value}"`);
  return value;
};

export function registerTrainCase(program: Command): void {
  program
    .command('train-case')
    .description("train the run's case model (gated attention MIL over the cell model's embeddings) from case labels only: bags are the train-split patients, the epoch and temperature are chosen on the val-split patients; for runs whose labels belong to the patient")
    .argument('<run>', 'run folder made by "aplnet train" on a manifest with patient_id (one label per patient)')
    .option('--data <manifest>', "the case-labelled manifest (default: the run's training data, with the run's split; another manifest needs a split column)")
    .option('--epochs <n>', `epochs of the case model on the cell embeddings (default: ${CASE_HEAD_DEFAULTS.epochs}, the best on validation cases kept)`, intIn('--epochs', 1, 10_000))
    .option('--encoder <kind>', `frozen (the cell model's embeddings as they are) or fine-tune (then also train the cell encoder end to end through the case model) (default: ${DEFAULT_CASE_ENCODER})`, encoderKind)
    .option('--fine-tune-epochs <n>', `epochs of end-to-end fine-tuning with --encoder fine-tune (default: ${FINE_TUNE_DEFAULTS.epochs})`, intIn('--fine-tune-epochs', 1, 1000))
    .option('--folds <n>', `a cross-validated case model: the recipe trained once per fold over the train and validation cases, every fold's heads kept, its temperature and case referral threshold fitted on the out-of-fold calls (default ${DEFAULT_CASE_FOLDS} with a frozen encoder; 1: one model on the train split, epochs chosen on the validation split)`, intIn('--folds', 1, 20))
    .option('--heads <n>', `MIL heads trained from seeds seed, seed + 1, …; the case call is the mean of their probabilities (default: ${DEFAULT_CASE_HEADS} with a frozen encoder, 1 with fine-tune)`, intIn('--heads', 1, 64))
    .option('--pooling <mode>', 'what the case classifier reads: attention (the attention-weighted mean of the cells, Ilse et al.) or attention-mean (that beside the plain mean of the cells, which keeps how common a kind of cell is; measured no better on pbc-cases, see the README) (default: attention)', poolingMode)
    .option('--seed <n>', 'seed for initialization, case order and cell subsampling (default: 0)', int('--seed'))
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--workers <n>', 'worker threads for decoding and augmentation', int('--workers'))
    .option('--cache-dir <dir>', "decoded-pixel cache (default: the run's, else ~/.cache/aplnet)")
    .action(async (runDir: string, o: Record<string, unknown>) => {
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      // The case model is replaced, so the old one (or a damaged one) is not loaded.
      const run = await loadRun(runDir, { device, calibration: 'optional', caseLevel: 'skip' });
      try {
        if (!run.calibration) console.error(`warning: ${runDir} has no calibration for its weights; the baselines use uncalibrated cell probabilities (run "aplnet evaluate ${runDir}" to fit one)`);
        const result = await trainCaseModel(run, {
          data: o.data as string | undefined,
          epochs: o.epochs as number | undefined,
          encoder: o.encoder as CaseEncoder | undefined,
          fineTuneEpochs: o.fineTuneEpochs as number | undefined,
          heads: o.heads as number | undefined,
          folds: o.folds as number | undefined,
          seed: o.seed as number | undefined,
          ...(o.pooling ? { head: { pooling: o.pooling as CaseMilPooling } } : {}),
          device,
          workers: o.workers as number | undefined,
          cacheDir: o.cacheDir as string | undefined,
        });
        const model = result.record.model!;
        const validation = model.validation;
        console.log([
          `case model (${model.encoder} encoder${model.config.pooling === 'attention' ? '' : `, ${model.config.pooling} pooling`}${model.folds ? `, ${model.folds} folds × ${model.heads / model.folds} heads` : model.heads > 1 ? `, ${model.heads} heads` : ''}) trained on ${model.trainCases} cases${model.folds ? ' (train and validation, each held out once)' : ''} in ${model.trainSeconds.toFixed(0)} s; ${model.headBestEpochs ? `epochs ${model.headBestEpochs.join(', ')}` : `epoch ${model.bestEpoch}`} of ${model.epochs} kept`,
          validation ? `${model.folds ? 'out-of-fold calls' : 'validation cases'}: ${validation.cases}, ${(validation.accuracy * 100).toFixed(1)}% right, log-loss ${validation.nll.toFixed(4)}, Brier ${validation.brier.toFixed(4)}` : 'no validation cases',
          `temperature ${model.temperature.toFixed(3)} (${model.temperatureFittedOn})`,
          model.referral
            ? `case calls below ${(model.referral.threshold * 100).toFixed(1)}% are referred: ${model.referral.errors} of ${model.referral.cases} ${model.referral.fittedOn} were wrong${model.referral.surestWrong === null ? '' : `, the surest at ${(model.referral.surestWrong * 100).toFixed(1)}%`}; ${model.referral.referred} of them would be referred`
            : "no case referral threshold fitted (no validation cases): the run's referral threshold applies",
          `case call without the model: ${result.record.baseline} (best on validation cases)`,
          `measure it on the test cases with: aplnet evaluate ${runDir}`,
        ].join('\n'));
      } finally {
        run.model.dispose();
        run.caseLevel?.model?.dispose();
      }
    });
}
