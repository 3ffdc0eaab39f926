// `npm run bench -- cases [--run DIR] [--folds 5] [--repeats 5] [--seed 0] [--compare-encoders 1] [--threads N] [--diagnose 1]`:
// issue 12's case-level figures on pbc-cases. (`--encoder-folds K [--dir DIR]` instead cross-validates
// the whole recipe, encoder included, over the train+val cases: bench/cases-encoder-cv.ts.) The protocol keeps every test case unseen:
// - the cell encoder is a run trained by `aplnet train` on pbc-cases' own manifest (each cell
//   labelled with its case's label, split by case as the manifest's split column says), or by
//   `aplnet train-relabeled` from such a run (instance labels from case labels and the previous
//   round's scores; same manifest and split; relabel.json, reported as "relabel"), so no test
//   case's cells were ever trained on. Without --run one is trained here first (40 epochs, the last one kept, zoom auto: 1.5 on pbc-cases);
// - `aplnet train-case` (on a copy of the run, so the given run is never written) trains the case
//   model as a user gets it: cross-validated over the train+val cases (5 folds × 5 heads, each
//   fold's epochs chosen on the next fold; temperature and case referral threshold fitted on the
//   out-of-fold calls), the baseline chosen on the val cases;
// - the test split's 23 cases are measured once, by `evaluate`'s own code (case model and the three
//   baselines; key-instance AUC with left-shift=ig, erythroblastic=erythroblast);
// - since 23 cases are few, the MIL head is also cross-validated over the 91 train+val cases
//   (k folds by case; inside each, one other fold picks the epoch and temperature), repeated with
//   --repeats fold assignments (seeds seed, seed + 1, …; the figures are their mean, each repeat's
//   kept under cv.repeats: one case is 1.1 points, so one assignment is noisy). Cells the OOD check
//   sets aside are left out, in the CV as in the test figures (evaluate's own rule). The encoder has
//   seen those cases' cells (train cases for its weights, val cases for its epoch), so these
//   figures measure the head over a known encoder and are optimistic for the whole pipeline.
// - ood_auroc is the out-of-distribution check's own measure (bench/ood.ts oodAurocs) on the same
//   cell run's test split, when the run has a fitted check (ood.json; "aplnet evaluate RUN" fits it).
// Nothing is chosen on the test split. The last line is one JSON object. --diagnose 1 prints the
// encoder's diagnosis instead (bench/cases-diagnose.ts: judged with cell_type, trains nothing).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argmax, CASE_BASELINES, caseBaselineCall, caseMetrics, keyInstanceAuc, parseKeyCellTypes, type CaseBaseline, type CaseMetrics, type KeyInstanceCase } from '../src/eval/index.js';
import type { CaseEncoder } from '../src/model/index.js';
import { bagsWithoutSetAside, evaluateCases, loadRun, readCellTypeColumn, type CaseEvaluation } from '../src/run/index.js';
import { outOfFoldCaseCalls, prepareCaseData, RELABEL_FILE, RelabelRecordSchema, trainCaseModel, type CaseBag, type RelabelRecord, type TrainCaseResult } from '../src/train/index.js';
import { setNumThreads } from '../src/torch/index.js';
import { loadClassNames } from '../src/data/index.js';
import { encoderFoldsDir, poolFoldCalls, trainFoldRun, writeFoldManifests, type EncoderFoldCall } from './cases-encoder-cv.js';
import { oodAurocs, type OodAurocs } from './ood.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DEFAULT_DATA = '../shared/data/pbc-cases/manifest.csv';
const KEY_CELL_TYPES = 'left-shift=ig,erythroblastic=erythroblast';

const round = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Math.round(value * 10000) / 10000);

/** The run's instance relabeling record (aplnet train-relabeled), or null for a run trained on the case labels. */
function relabelOf(run: string): RelabelRecord | null {
  const path = join(run, RELABEL_FILE);
  return existsSync(path) ? RelabelRecordSchema.parse(JSON.parse(readFileSync(path, 'utf8'))) : null;
}

function trainCellRun(data: string, threads: number): string {
  const out = join(mkdtempSync(join(tmpdir(), 'aplnet-bench-cases-')), 'cell-run');
  // 40 epochs, the whole schedule: chosen over 20 on the validation cases; zoom 1.5 (the cell fills
  // the input; --zoom auto measures it: 1.5 on pbc-cases, bit for bit the same run) and the last
  // epoch kept: chosen on the out-of-fold case calls (docs/case-results.md).
  const args = ['train', data, '--out', out, '--epochs', '40', '--patience', '0', '--keep', 'last', '--zoom', 'auto', '--threads', String(threads)];
  console.error(`no --run given: training the cell encoder on ${data} (aplnet ${args.slice(0, -2).join(' ')}) first`);
  const trained = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (trained.status !== 0) throw new Error(`training the cell encoder failed (exit ${trained.status}); see the lines above`);
  return out;
}

/** A private copy of the cell run (without its lock and checkpoints) for train-case to write into. */
function copyOfRun(run: string, name: string): string {
  const copy = join(mkdtempSync(join(tmpdir(), 'aplnet-bench-cases-')), name);
  cpSync(run, copy, { recursive: true, filter: (src) => !src.endsWith('.lock') && !src.includes('/checkpoint') });
  return copy;
}

async function trainAndEvaluate(run: string, encoder: CaseEncoder, seed: number, log: (l: string) => void, withOod = false): Promise<{ trained: TrainCaseResult; test: CaseEvaluation; ood: OodAurocs | null }> {
  const copy = copyOfRun(run, `case-run-${encoder}`);
  try {
    const cell = await loadRun(copy, { calibration: 'optional', caseLevel: 'skip' });
    let trained: TrainCaseResult;
    try {
      trained = await trainCaseModel(cell, { encoder, seed, log });
    } finally {
      cell.model.dispose();
    }
    const loaded = await loadRun(copy, { calibration: 'optional' });
    try {
      const test = await evaluateCases(loaded, 'cpu', { keyCellTypes: KEY_CELL_TYPES, log });
      if (!test) throw new Error(`${run} is not case-level`);
      // The out-of-distribution figures are the OOD check's own benchmark (bench/ood.ts), on the same cell run's test split.
      let ood: OodAurocs | null = null;
      if (withOod) {
        if (existsSync(join(copy, 'ood.json'))) ood = await oodAurocs(copy, { split: 'test' });
        else log(`${run} has no fitted out-of-distribution check (ood.json): run "aplnet evaluate ${run}" to fit one; ood_auroc is left out`);
      }
      return { trained, test, ood };
    } finally {
      loaded.model.dispose();
      loaded.caseLevel?.model?.dispose();
    }
  } finally {
    rmSync(resolve(copy, '..'), { recursive: true, force: true });
  }
}

export interface CvFigures {
  folds: number;
  cases: number;
  accuracy: Record<'mil' | CaseBaseline, number>;
  auc: Record<'mil' | CaseBaseline, number | null>;
  ece: Record<'mil' | CaseBaseline, number>;
  keyInstanceAuc: number | null;
  keyInstancePooledAuc: number | null;
}

type Method = 'mil' | CaseBaseline;
const METHODS = ['mil', ...CASE_BASELINES] as const;

/** One k-fold assignment (seed `foldSeed`) of the train+val bags: every bag called once, held out, by the case model's own recipe (src/train/case-cross-validation.ts). */
export function crossValidateOnce(bags: readonly CaseBag[], classes: string[], embeddingViews: 1 | 8, types: Map<string, string>, folds: number, foldSeed: number, headSeed: number, log: (l: string) => void): CvFigures {
  // As train-case trains it: DEFAULT_CASE_HEADS heads from seeds headSeed, headSeed + 1, … (fixed over the repeats; only the folds move).
  const { probabilities: milProbs, weights: milWeights } = outOfFoldCaseCalls(bags, classes, embeddingViews, { folds, foldSeed, headSeed, log });
  const labels = bags.map((bag) => bag.label);
  const metrics = {} as Record<Method, CaseMetrics>;
  const milRows = bags.map((bag) => milProbs.get(bag.id)!);
  metrics.mil = caseMetrics(milRows, milRows.map((row) => argmax(row)), labels, classes);
  for (const baseline of CASE_BASELINES) {
    const calls = bags.map((bag) => caseBaselineCall(baseline, bag.cellProbabilities, classes.length));
    metrics[baseline] = caseMetrics(calls.map((c) => c.probabilities), calls.map((c) => c.called), labels, classes);
  }
  const mapping = parseKeyCellTypes(KEY_CELL_TYPES, classes);
  const judged: KeyInstanceCase[] = bags.flatMap((bag) => {
    const key = mapping.get(classes[bag.label]);
    return key ? [{ weights: milWeights.get(bag.id)!, isKey: bag.paths.map((path) => key.has(types.get(path) ?? '')) }] : [];
  });
  const key = keyInstanceAuc(judged);
  const pick = <T>(f: (m: CaseMetrics) => T) => Object.fromEntries(METHODS.map((m) => [m, f(metrics[m])])) as Record<Method, T>;
  return {
    folds,
    cases: bags.length,
    accuracy: pick((m) => m.accuracy),
    auc: pick((m) => m.auc),
    ece: pick((m) => m.ece),
    keyInstanceAuc: key.meanCaseAuc,
    keyInstancePooledAuc: key.pooledAuc,
  };
}

const meanOf = (values: (number | null)[]): number | null => (values.some((v) => v === null) ? null : values.reduce<number>((a, v) => a + v!, 0) / values.length);

/** The field-wise mean of some repeats' figures, rounded (of one repeat: its figures, rounded). */
export function meanFigures(each: readonly CvFigures[]): CvFigures {
  const byMethod = <T extends number | null>(f: (c: CvFigures) => Record<Method, T>) => Object.fromEntries(METHODS.map((m) => [m, round(meanOf(each.map((c) => f(c)[m])))])) as Record<Method, T>;
  return {
    folds: each[0].folds,
    cases: each[0].cases,
    accuracy: byMethod((c) => c.accuracy),
    auc: byMethod((c) => c.auc),
    ece: byMethod((c) => c.ece),
    keyInstanceAuc: round(meanOf(each.map((c) => c.keyInstanceAuc))),
    keyInstancePooledAuc: round(meanOf(each.map((c) => c.keyInstancePooledAuc))),
  };
}

/** k-fold cross-validation of the MIL head over the train+val cases (fixed encoder), `repeats` fold assignments: see the file comment. */
async function crossValidate(run: string, data: string, folds: number, repeats: number, seed: number, log: (l: string) => void): Promise<CvFigures & { repeats: CvFigures[] }> {
  const cell = await loadRun(run, { calibration: 'optional', caseLevel: 'skip' });
  const prepared = await prepareCaseData(cell, { splits: ['train', 'val'], log });
  try {
    // As evaluate and the case summary do: the cells the OOD check sets aside are left out of every call.
    const every: CaseBag[] = [...prepared.bags.train, ...prepared.bags.val];
    const { bags, setAside } = await bagsWithoutSetAside(cell, every);
    log(`cv: ${setAside.size} of ${every.reduce((n, bag) => n + bag.paths.length, 0)} train+val cells set aside as out of distribution`);
    const types = readCellTypeColumn(data);
    const each = Array.from({ length: repeats }, (_, r) => crossValidateOnce(bags, cell.classNames, prepared.embeddingViews, types, folds, seed + r, seed, log));
    return { ...meanFigures(each), repeats: each.map((c) => meanFigures([c])) };
  } finally {
    await prepared.dataset.close();
    cell.model.dispose();
  }
}

export async function benchCases(options: Record<string, string | number>): Promise<Record<string, unknown>> {
  const threads = Number(options.threads ?? 2);
  setNumThreads(threads);
  const data = String(options.data ?? DEFAULT_DATA);
  const seed = Number(options.seed ?? 0);
  const folds = Number(options.folds ?? 5);
  const repeats = Number(options.repeats ?? 5);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a whole number ≥ 1, got ${options.repeats}`);
  const log = (line: string) => console.error(line);
  if (options['encoder-folds'] !== undefined) {
    if (options.run) throw new Error('--encoder-folds trains one cell encoder per fold itself; leave out --run');
    return benchEncoderFolds(data, Number(options['encoder-folds']), seed, threads, options.dir === undefined ? undefined : String(options.dir), log);
  }
  const run = options.run ? String(options.run) : trainCellRun(data, threads);
  if (!existsSync(run)) throw new Error(`--run ${run} is not there`);
  if (Number(options.diagnose ?? 0) > 0) {
    const { diagnoseCases } = await import('./cases-diagnose.js');
    return diagnoseCases(run, options.data ? data : undefined);
  }

  const frozen = await trainAndEvaluate(run, 'frozen', seed, log, true);
  const cv = await crossValidate(run, data, folds, repeats, seed, log);
  const figures = (result: { trained: TrainCaseResult; test: CaseEvaluation }) => ({
    // The held-out calls train-case scored: the out-of-fold calls of a cross-validated case model, else the val cases'.
    held_out_calls: result.trained.record.model!.folds ? 'out-of-fold' : 'val',
    val_case_accuracy: round(result.trained.record.model!.validation?.accuracy),
    val_case_log_loss: round(result.trained.record.model!.validation?.nll),
    test_case_accuracy: round(result.test.methods['case-model']!.accuracy),
    test_case_auc: round(result.test.methods['case-model']!.auc),
    train_s: round(result.trained.seconds),
  });
  const encoders: Record<string, unknown> = { frozen: figures(frozen) };
  if (Number(options['compare-encoders'] ?? 0) > 0) {
    const tuned = await trainAndEvaluate(run, 'fine-tune', seed, log);
    encoders['fine-tune'] = figures(tuned);
  }
  const test = frozen.test;
  const m = test.methods;
  const relabeled = relabelOf(run);
  return {
    protocol: `cell encoder: ${run} (${relabeled ? `aplnet train-relabeled, round ${relabeled.round} of instance relabeling from ${relabeled.from} (key share ${relabeled.keyShare}, normal quantile ${relabeled.normalQuantile}; relabel.json), on ${data}` : `aplnet train on ${data}`}, split by case); case model: aplnet train-case (cross-validated over the train+val cases, temperature and referral threshold on its out-of-fold calls; baseline on the val cases); test figures on the ${test.cases} test cases; cv: ${folds}-fold over the ${cv.cases} train+val cases, mean of ${repeats} fold assignment${repeats === 1 ? '' : 's'} (fold seeds ${seed}–${seed + repeats - 1}; the encoder saw their cells: optimistic)`,
    test_cases: test.cases,
    case_accuracy: { mil: round(m['case-model']!.accuracy), mean_prob: round(m['mean-probability']!.accuracy), mean_log_prob: round(m['mean-log-probability']!.accuracy), vote: round(m['majority-vote']!.accuracy) },
    case_auc: { mil: round(m['case-model']!.auc), mean_prob: round(m['mean-probability']!.auc), mean_log_prob: round(m['mean-log-probability']!.auc), vote: round(m['majority-vote']!.auc) },
    case_ece: { mil: round(m['case-model']!.ece), mean_prob: round(m['mean-probability']!.ece), mean_log_prob: round(m['mean-log-probability']!.ece), vote: round(m['majority-vote']!.ece) },
    case_brier: { mil: round(m['case-model']!.brier), mean_prob: round(m['mean-probability']!.brier) },
    best_baseline_on_val: test.baseline,
    // Which case classes the case model mixes up on the test cases ("true → called": count; right calls left out).
    case_errors_mil: Object.fromEntries([...test.perCase.reduce((errors, row) => {
      const called = row.calls['case-model'];
      if (called && called !== row.label) errors.set(`${row.label} → ${called}`, (errors.get(`${row.label} → ${called}`) ?? 0) + 1);
      return errors;
    }, new Map<string, number>())].sort()),
    // The call a user gets under its case referral threshold (fitted by train-case on out-of-fold calls of the train+val cases), on the test cases.
    test_referral: { ...test.referral, threshold: round(test.referral.threshold) },
    key_instance_auc: round(test.keyInstances?.meanCaseAuc),
    key_instance_pooled_auc: round(test.keyInstances?.pooledAuc),
    cv,
    encoders,
    ...(relabeled ? { relabel: relabeled } : {}),
    ...(frozen.ood ? { ood_auroc: frozen.ood } : {}),
    train_s: round(frozen.trained.seconds),
  };
}

/** --encoder-folds K: the whole recipe cross-validated over the train+val cases (bench/cases-encoder-cv.ts). */
async function benchEncoderFolds(data: string, folds: number, seed: number, threads: number, dir: string | undefined, log: (l: string) => void): Promise<Record<string, unknown>> {
  if (!Number.isInteger(folds) || folds < 2) throw new Error(`--encoder-folds must be a whole number ≥ 2, got ${folds}`);
  const root = encoderFoldsDir(dir);
  log(`encoder cross-validation: ${folds} folds over the train+val cases of ${data}; fold runs in ${root}`);
  const manifests = writeFoldManifests(data, folds, seed, root);
  const started = performance.now();
  const calls: EncoderFoldCall[] = [];
  const oods: OodAurocs[] = [];
  const trainSeconds: number[] = [];
  let classes: string[] = [];
  for (let k = 0; k < folds; k++) {
    const run = trainFoldRun(manifests[k], join(root, `fold-${k + 1}`), seed, threads, log);
    classes = await loadClassNames(join(run, 'classes.json'));
    const { test, trained, ood } = await trainAndEvaluate(run, 'frozen', seed, log, true);
    calls.push({ fold: k + 1, evaluation: test });
    if (ood) oods.push(ood);
    trainSeconds.push(trained.seconds);
    log(`fold ${k + 1}/${folds}: case model ${(test.methods['case-model']!.accuracy * 100).toFixed(1)}% of ${test.cases} held-out cases (mean log-prob. ${(test.methods['mean-log-probability']!.accuracy * 100).toFixed(1)}%)`);
  }
  return {
    protocol: `encoder cross-validation: ${folds} folds by case (stratified, fold seed ${seed}) over the train+val cases of ${data} (its test rows left out); per fold the case recipe (aplnet train --epochs 40 --patience 0 --keep last --zoom auto --seed ${seed}, validation patients drawn from the other folds; aplnet train-case; evaluate's case code) calls the fold's cases, whose cells no encoder of theirs trained on; figures pooled over the folds`,
    encoder_folds: folds,
    dir: root,
    ...poolFoldCalls(calls, classes),
    // The OOD check's own measure on each fold's held-out cells (every fold's run fits its own check): the mean over the folds, and the lowest.
    ...(oods.length === folds ? {
      ood_auroc: Object.fromEntries(Object.keys(oods[0]).map((set) => [set, round(oods.reduce((sum, o) => sum + o[set as keyof OodAurocs], 0) / folds)])),
      ood_auroc_lowest_fold: Object.fromEntries(Object.keys(oods[0]).map((set) => [set, round(Math.min(...oods.map((o) => o[set as keyof OodAurocs])))])),
    } : {}),
    // train-case's seconds per fold (the case model; each fold's cell encoder trains for about 10 minutes before it).
    train_s: round(trainSeconds.reduce((a, b) => a + b, 0) / folds),
    seconds: round((performance.now() - started) / 1000),
  };
}
