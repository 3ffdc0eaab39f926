import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { writeSkippedList } from '../../data/index.js';
import { acquireRunLock } from '../../io/index.js';
import type { ClassifierReport, Interval } from '../../eval/index.js';
import { detectDataCredits, type DataCredit } from '../../report/index.js';
import { evaluateCases, formatCaseEvaluation, writeCaseEvaluation } from '../../run/index.js';
import { evaluationShare, evaluatedCases, writeEvaluatedCases, loadRun, parseTtaMode, RUN_FILES, type TtaMode, writeMetricsJson, writeRunReport, type RunEvaluation } from '../../run/index.js';
import { int, intIn, threadCount } from '../parse-options.js';
import { launchInferenceRanks } from '../launch-ranks.js';
import { selectDevice } from '../device.js';
import { formatTable } from '../format-table.js';
import { evaluatedCasesListing } from '../evaluation-cases.js';
import { hasOodCheck, oodFlagRate, refitOodWhereNeeded, type LoadedRun, type OodFlagRate } from '../../run/index.js';

const percent = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`);
const fixed = (v: number | null | undefined, digits = 3) => (v === null || v === undefined ? '—' : v.toFixed(digits));
/** A value with its bootstrap interval, e.g. "96.4% (94.9–97.6)". */
const withInterval = (v: number | null | undefined, interval: Interval | null | undefined, format: (x: number) => string): string =>
  v === null || v === undefined ? '—' : interval ? `${format(v)} (${format(interval.low)}–${format(interval.high)})` : format(v);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The few lines a user reads in the terminal; everything else is in metrics.json and report.html. */
export function evaluationSummary(evaluation: RunEvaluation): string {
  const { uncalibrated, calibrated, set } = evaluation;
  const rows = (pick: (r: ClassifierReport) => string) => [pick(uncalibrated), pick(calibrated)];
  const overall = formatTable(['', 'T = 1', `T = ${calibrated.temperature.toFixed(3)}`], [
    ['accuracy', ...rows((r) => withInterval(r.images.accuracy, r.images.intervals?.accuracy, pct))],
    ['balanced accuracy', ...rows((r) => withInterval(r.images.balancedAccuracy, r.images.intervals?.balancedAccuracy, pct))],
    ['macro-F1', ...rows((r) => withInterval(r.images.macroF1, r.images.intervals?.macroF1, (x) => x.toFixed(3)))],
    ['weighted F1', ...rows((r) => fixed(r.images.weightedF1))],
    ['macro ROC-AUC', ...rows((r) => fixed(r.images.roc.macroAuc))],
    ['ECE', ...rows((r) => withInterval(r.images.calibration.expectedCalibrationError, r.images.intervals?.expectedCalibrationError, pct))],
    ['NLL', ...rows((r) => fixed(r.images.negativeLogLikelihood))],
    ...(calibrated.patients ? [['patient accuracy', ...rows((r) => percent(r.patients!.accuracy))], ['patient macro-F1', ...rows((r) => fixed(r.patients!.macroF1))]] : []),
  ]);
  const aucs = new Map(calibrated.images.roc.perClass.map((c) => [c.className, c.auc]));
  const perClass = formatTable(['class', 'precision', 'recall', 'F1', 'support', 'ROC-AUC'], calibrated.images.perClass.map((c) => [
    c.className, fixed(c.precision), fixed(c.recall), fixed(c.f1), String(c.support), fixed(aucs.get(c.className)),
  ]));
  const referral = calibrated.images.referral;
  const source = evaluation.temperatureSource === 'val' ? 'fitted now on the validation split' : `saved, fitted on ${evaluation.temperatureSource}`;
  return [
    `${set.splitName === 'all' ? 'all' : 'test split of'} ${set.data}: ${calibrated.images.count} images (95% bootstrap intervals in brackets)${calibrated.patients ? `, ${calibrated.patients.count} patients` : ''}; temperature ${calibrated.temperature.toFixed(3)} (${source})`,
    overall,
    '',
    perClass,
    ...(referral ? ['', `referral below ${referral.threshold}: ${referral.referred} referred, ${percent(referral.accuracyOnKept)} accuracy on the ${percent(referral.coverage)} kept`] : []),
  ].join('\n');
}

/** The in-distribution flag rate: evaluated images are cells like the training ones, so each flag is a false alarm. */
export function oodSummary(run: LoadedRun, rate: OodFlagRate, splitName: string): string {
  const asked = (run.members ?? [run]).map((part) => part.ood!.record.flagShare);
  const images = splitName === 'all' ? 'evaluated images' : `${splitName} images`;
  return `out-of-distribution check: ${rate.flagged} of ${rate.predicted} ${images} flagged (${percent(rate.share)}) and set aside; its threshold was fitted to flag at most ${percent(Math.max(...asked))} of validation images${run.members ? ' (per member; an image is flagged when any member flags it)' : ''}`;
}

export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description("measure a run on its test split (or on another labelled dataset): metrics before and after temperature scaling, metrics.json and report.html")
    .argument('<run>', 'run folder made by "aplnet train"')
    .argument('[data]', "a labelled dataset to evaluate instead of the run's test split (every image of it, with the run's classes and preprocessing)")
    .option('--out <dir>', 'where to write metrics.json and report.html (default: the run folder)')
    .option('--credit <text>', 'credit line for the images, shown in the report (repeatable; default: read from a CREDITS or README file beside the data)', (v: string, all: string[] = []) => [...all, v])
    .option('--gallery <n>', 'overlays per class and kind (most confident right / wrong) in the report', int('--gallery'), 2)
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--workers <n>', 'worker threads for decoding', int('--workers'))
    .option('--cache-dir <dir>', "decoded-pixel cache (default: the run's, else ~/.cache/aplnet)")
    .option('--tta <on|off>', "test-time augmentation: the mean over the 8 flips and quarter turns; the temperature is refitted for it and it becomes the run's default (default: the run's mode)", (v: string) => parseTtaMode(v))
    .option('--key-cell-types <mapping>', 'case-level runs: the cell types that define each case class, read from the manifest\'s cell_type column to judge the case model\'s cell weights (e.g. left-shift=ig,erythroblastic=erythroblast)')
    .option('--nproc <n>', "start n local processes that share out the scoring of the images (torchrun's environment); rank 0 computes and writes the metrics", intIn('--nproc', 1, 256))
    .action(async (runDir: string, data: string | undefined, o: Record<string, unknown>) => {
      const launched = await launchInferenceRanks(o);
      if (launched !== null) {
        process.exitCode = launched;
        return;
      }
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const reading = { data, cacheDir: o.cacheDir as string | undefined, workers: o.workers as number | undefined, tta: o.tta as TtaMode | undefined };
      // In a world (--nproc, torchrun) every rank scores its share of the images; only rank 0 goes on (and locks, and writes).
      const share = await evaluationShare(runDir, device, reading);
      if (!share) return;
      // evaluate refits calibration.json and writes metrics.json and report.html: one writer at a time.
      const lock = acquireRunLock(resolve(runDir), 'evaluate');
      try {
        const run = await loadRun(runDir, { device, calibration: 'optional' });
        try {
          const evaluation = await share.evaluateRun(run, device, reading);
          // The out-of-distribution check is fitted with the temperature (where missing or stale), before anything predicts.
          for (const line of await refitOodWhereNeeded(run, device, { cacheDir: o.cacheDir as string | undefined, workers: o.workers as number | undefined })) console.error(line);
          const outDir = resolve((o.out as string | undefined) ?? runDir);
          mkdirSync(outDir, { recursive: true });
          // The check's flags on the evaluated images, once: its summary, and the cells the case calls leave out.
          const oodRate = hasOodCheck(run) ? await oodFlagRate(run, evaluation.images.paths) : null;
          // Case-level runs: the case model and the baselines side by side (null for cell-type labels).
          const caseEvaluation = await evaluateCases(run, device, { data, keyCellTypes: o.keyCellTypes as string | undefined, cacheDir: o.cacheDir as string | undefined, workers: o.workers as number | undefined, setAside: oodRate?.setAside ?? new Set() });
          // The split's cases, when its images have patient ids: the summary predict and the web page show.
          const cases = await evaluatedCases(run, evaluation);
          const credits: DataCredit[] = o.credit ? (o.credit as string[]).map((citation) => ({ citation })) : detectDataCredits(evaluation.set.data);
          const metricsPath = join(outDir, RUN_FILES.metrics);
          const reportPath = join(outDir, RUN_FILES.report);
          const skippedPath = join(outDir, RUN_FILES.evaluationSkipped);
          await writeSkippedList(skippedPath, evaluation.set.skipped);
          writeMetricsJson(metricsPath, run, evaluation);
          await writeRunReport(reportPath, run, evaluation, { credits, galleryPerClass: o.gallery as number, cases });
          console.log(evaluationSummary(evaluation));
          if (oodRate) console.log(`\n${oodSummary(run, oodRate, evaluation.set.splitName)}`);
          if (caseEvaluation) console.log(`\n${formatCaseEvaluation(caseEvaluation)}\ncase metrics: ${writeCaseEvaluation(outDir, caseEvaluation)}`);
          if (cases.length > 0) console.log(`\n${evaluatedCasesListing(cases, run.classNames)}\ncase summaries: ${writeEvaluatedCases(outDir, run, evaluation.set.splitName, cases)}`);
          console.log(`\nmetrics: ${metricsPath}\nreport:  ${reportPath}`);
          console.log(`skipped: ${evaluation.set.skipped.length} image(s) of the evaluated split could not be read${evaluation.set.skipped.length ? `; every one with its reason in ${skippedPath}` : ''}`);
        } finally {
          run.model.dispose();
        }
      } finally {
        lock.release();
      }
    });
}
