import type { Command } from 'commander';
import { DEFAULT_NORMAL_CLASS, disposeRun, loadRun, trainRelabeledEncoder } from '../../run/index.js';
import { RELABEL_DEFAULTS, type TrainingConfig } from '../../train/index.js';
import { selectDevice } from '../device.js';
import { int, num, threadCount } from '../parse-options.js';

export function registerTrainRelabeled(program: Command): void {
  program
    .command('train-relabeled')
    .description("one round of multiple-instance relabeling for a case-level run: RUN's cell model scores the training cells of its case manifest; every cell of a normal case is labelled normal, the top cells of an abnormal case (by the score for its class) get the case's class, cells scoring like a normal case's are labelled normal, the rest are left out; a fresh cell encoder is trained on those labels with RUN's recipe and split (case labels only, never a cell's own type). Then: aplnet train-case OUT")
    .argument('<run>', 'case-level run folder (aplnet train on a manifest with patient_id, or an earlier train-relabeled round)')
    .requiredOption('--out <run>', 'run folder to create for the new cell encoder')
    .option('--key-share <q>', `share of an abnormal case's cells labelled with its class (default: ${RELABEL_DEFAULTS.keyShare})`, num('--key-share'))
    .option('--normal-quantile <q>', `an abnormal case's cell scoring at most this quantile of the normal cases' cells is labelled normal (default: ${RELABEL_DEFAULTS.normalQuantile})`, num('--normal-quantile'))
    .option('--normal-class <name>', `the case class whose cases hold only normal cells (default: ${DEFAULT_NORMAL_CLASS})`)
    .option('--epochs <n>', "epochs (default: RUN's)", int('--epochs'))
    .option('--batch <n>', "batch size (default: RUN's)", int('--batch'))
    .option('--lr <rate>', "peak learning rate (default: RUN's)", num('--lr'))
    .option('--patience <n>', "early stopping patience in epochs, 0 = off (default: RUN's)", int('--patience'))
    .option('--seed <n>', "seed (default: RUN's)", int('--seed'))
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--workers <n>', 'worker threads for decoding and augmentation', int('--workers'))
    .option('--cache-dir <dir>', 'decoded-pixel cache (default: ~/.cache/aplnet)')
    .action(async (runDir: string, o: Record<string, unknown>) => {
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const previous = await loadRun(runDir, { device, calibration: 'optional', caseLevel: 'skip' });
      try {
        const training: Partial<TrainingConfig> = {};
        for (const key of ['epochs', 'batch', 'lr', 'patience', 'seed', 'device', 'threads', 'workers', 'cacheDir'] as const) if (o[key] !== undefined) (training as Record<string, unknown>)[key] = o[key];
        const result = await trainRelabeledEncoder(previous, o.out as string, {
          keyShare: o.keyShare as number | undefined,
          normalQuantile: o.normalQuantile as number | undefined,
          normalClass: o.normalClass as string | undefined,
          training,
          device,
          cacheDir: o.cacheDir as string | undefined,
          workers: o.workers as number | undefined,
        });
        if (result.reason === 'interrupted') {
          process.exitCode = 130;
          return;
        }
        console.log(`cell encoder saved in ${result.runDir} (best validation macro-F1 against the case labels ${result.bestValMacroF1.toFixed(4)} at epoch ${result.bestEpoch}); instance labels from ${previous.dir} in relabel.json; next: aplnet train-case ${result.runDir}`);
      } finally {
        disposeRun(previous);
      }
    });
}
