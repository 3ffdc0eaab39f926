// Case-level evaluation of a run whose labels belong to the patient: on the test patients (or every
// patient of another case-labelled manifest), the case model and the three baselines side by side:
// per-case accuracy, ROC-AUC, calibration (ECE, Brier, log-loss), and, where the manifest has a
// cell_type column and the user says which cell types define which case class, key-instance
// detection (the ROC-AUC of the case model's cell weights for those cells). Nothing here trains or
// chooses anything, except recording which baseline makes the call when case-level.json is missing
// (chosen on the validation patients, as train-case does).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseCsvRows, readSource } from '../data/index.js';
import {
  argmax,
  CASE_BASELINES,
  caseBaselineCall,
  caseCallReferred,
  caseMetrics,
  keyInstanceAuc,
  parseKeyCellTypes,
  type CaseBaseline,
  type CaseMetrics,
  type KeyInstanceCase,
  type KeyInstanceReport,
} from '../eval/index.js';
import { writeJsonAtomic } from '../io/index.js';
import { caseSoftmax, type CaseModel } from '../model/index.js';
import { bagsOf, bagWithout, collectCellOutputs, prepareCaseData, readCaseLevel, recordCaseLevel, sourceCases, type CaseBag } from '../train/index.js';
import { caseCallThreshold } from './case-summary.js';
import type { LoadedRun } from './load-run.js';
import { bagsWithoutSetAside } from './ood-refit.js';

/** What makes a case call: the case model, or one of the baselines over the cells. */
export type CaseMethod = 'case-model' | CaseBaseline;

export interface CaseRow {
  id: string;
  label: string;
  cells: number;
  /** Each method's call for this case. */
  calls: Partial<Record<CaseMethod, string>>;
  /** Each method's probability of its call. */
  probabilities: Partial<Record<CaseMethod, number>>;
  /** Each method's probability of every class, in the run's class order (for metrics pooled over several evaluations). */
  distributions: Partial<Record<CaseMethod, number[]>>;
}

export interface CaseEvaluation {
  /** The dataset and the part of it whose cases were measured ('test', or 'all' for another manifest). */
  data: string;
  splitName: 'test' | 'all';
  cases: number;
  cells: number;
  /** Cells the prediction core set aside as out of distribution, left out of every method's call (as the case summary leaves them out). */
  cellsSetAside: number;
  /** Cases every cell of which was set aside: no method calls them, and they are left out of the metrics. */
  casesWithoutCells: string[];
  /** The baseline that makes the case call without a case model (case-level.json). */
  baseline: CaseBaseline;
  caseModel: { encoder: string; heads: number; temperature: number; file: string } | null;
  /** Metrics of each method, the case model first when there is one. */
  methods: Partial<Record<CaseMethod, CaseMetrics>>;
  /** Null unless a key cell type mapping was given (and the manifest has a cell_type column). */
  keyInstances: (KeyInstanceReport & { mapping: Record<string, string[]> }) | null;
  perCase: CaseRow[];
  /**
   * The call a user gets (the case model's, else the baseline's) under its case referral threshold
   * (the one fitted for it, else the run's referral threshold), counted over these cases: how many
   * it refers, and how many of those it does not refer are right. Only the probability rule is
   * applied here; the case summary adds the rules on cells (too few usable, too many set aside).
   */
  referral: { method: CaseMethod; threshold: number; fitted: boolean; referred: number; notReferred: number; notReferredRight: number };
}

export interface EvaluateCasesOptions {
  /** Another case-labelled manifest to measure every case of, instead of the run's test patients. */
  data?: string;
  /** "left-shift=ig,erythroblastic=erythroblast": the cell types that define each case class, read from a cell_type column. */
  keyCellTypes?: string;
  cacheDir?: string;
  workers?: number;
  /**
   * Cells to leave out of every case call: default the images the run's out-of-distribution check
   * flags (oodSetAsidePaths), so the figures measure the call the case summary makes.
   */
  setAside?: ReadonlySet<string>;
  log?: (line: string) => void;
}

/** path → cell type, from the manifest's cell_type column (the only reader of that column, and for evaluation only). */
export function readCellTypeColumn(manifest: string): Map<string, string> {
  const rows = parseCsvRows(readFileSync(manifest, 'utf8'));
  const header = rows[0]?.cells.map((c) => c.trim().toLowerCase()) ?? [];
  const [pathColumn, typeColumn] = [header.indexOf('path'), header.indexOf('cell_type')];
  if (typeColumn < 0) throw new Error(`${manifest} has no cell_type column, so key-instance detection cannot be judged; leave out --key-cell-types or use a manifest that knows each cell's type`);
  const root = resolve(manifest, '..');
  return new Map(rows.slice(1).map((row) => [resolve(root, row.cells[pathColumn].trim()), row.cells[typeColumn]?.trim() ?? '']));
}

/** Case model probabilities and cell weights per bag (embeddings of the case model's own encoder when fine-tuned). */
function caseModelCalls(model: CaseModel, bags: readonly CaseBag[]): { probabilities: number[][]; weights: number[][] } {
  const out = bags.map((bag) => {
    const { logits, weights } = model.scores(bag.embeddings);
    return { p: caseSoftmax(logits, model.temperature), w: weights };
  });
  return { probabilities: out.map((o) => o.p), weights: out.map((o) => o.w) };
}

/**
 * Measures the run's cases; null when the run is not case-level (its labels are cell types). A
 * case-level run without case-level.json gets one (the baseline chosen on its validation patients).
 */
export async function evaluateCases(run: LoadedRun, device: string, options: EvaluateCasesOptions = {}): Promise<CaseEvaluation | null> {
  const log = options.log ?? ((line: string) => console.error(line));
  const data = options.data ?? run.config.training.data;
  const source = await readSource(data, { classNames: run.classNames });
  if ('reason' in sourceCases(source.samples)) return null;
  const splitName = options.data ? 'all' : 'test';
  const prepared = await prepareCaseData(run, { data: options.data, cacheDir: options.cacheDir, workers: options.workers, device, splits: options.data ? ['train', 'val', 'test'] : ['val', 'test'], log });
  try {
    let caseLevel = run.caseLevel;
    if (!caseLevel && !options.data) {
      const record = recordCaseLevel(run, prepared.bags.val, readCaseLevel(run.dir, run.weightsSha256, run.classNames));
      caseLevel = run.caseLevel = { baseline: record.baseline, model: null, referral: record.baselineReferral ?? null };
      log(`recorded the run as case-level: without a case model the case call is ${record.baseline} (best on ${prepared.bags.val.length} validation cases)`);
    }
    const allBags = options.data ? [...prepared.bags.train, ...prepared.bags.val, ...prepared.bags.test] : prepared.bags.test;
    if (allBags.length === 0) throw new Error(`${data} has no ${splitName === 'test' ? 'test ' : ''}cases to evaluate`);
    // Out-of-distribution cells are left out of the case call, here as in the case summary.
    const { bags, emptied: casesWithoutCells, setAside } = await bagsWithoutSetAside(run, allBags, options.setAside);
    const cellsSetAside = allBags.reduce((n, bag) => n + bag.paths.length, 0) - bags.reduce((n, bag) => n + bag.paths.length, 0);
    if (cellsSetAside > 0) log(`${cellsSetAside} cell(s) set aside as out of distribution are left out of the case calls${casesWithoutCells.length ? `; ${casesWithoutCells.length} case(s) had no cell left and are not called: ${casesWithoutCells.join(', ')}` : ''}`);
    if (bags.length === 0) throw new Error(`every cell of the ${allBags.length} cases of ${data} was set aside as out of distribution, so no case can be called; check the images, or refit the check with "aplnet evaluate"`);
    const labels = bags.map((bag) => bag.label);
    const methods: Partial<Record<CaseMethod, CaseMetrics>> = {};
    const perCase: CaseRow[] = bags.map((bag) => ({ id: bag.id, label: run.classNames[bag.label], cells: bag.paths.length, calls: {}, probabilities: {}, distributions: {} }));
    const model = caseLevel?.model ?? null;
    let weights: number[][] | null = null;
    if (model) {
      let modelBags = bags;
      if (model.encoder) {
        // A fine-tuned encoder gives its own embeddings: embed the same cells with it.
        const split = options.data ? null : 'test';
        const subsets = split ? [prepared.dataset.subset(split)] : (['train', 'val', 'test'] as const).map((s) => prepared.dataset.subset(s));
        const byId = new Map<string, CaseBag>();
        for (const subset of subsets) {
          if (subset.images.length === 0) continue;
          const loader = prepared.dataset.loader(subset.name as 'train' | 'val' | 'test', { batchSize: 64, order: 'sequential', seed: 0, augmentation: null });
          for (const bag of bagsOf(await collectCellOutputs(model.encoder, loader, device), prepared.caseOf, prepared.cellTemperature)) byId.set(bag.id, bag);
        }
        modelBags = bags.map((bag) => bagWithout(byId.get(bag.id)!, setAside)!);
      }
      const calls = caseModelCalls(model, modelBags);
      weights = calls.weights;
      const called = calls.probabilities.map((row) => argmax(row));
      methods['case-model'] = caseMetrics(calls.probabilities, called, labels, run.classNames);
      called.forEach((c, i) => {
        perCase[i].calls['case-model'] = run.classNames[c];
        perCase[i].probabilities['case-model'] = calls.probabilities[i][c];
        perCase[i].distributions['case-model'] = Array.from(calls.probabilities[i]);
      });
    }
    for (const baseline of CASE_BASELINES) {
      const calls = bags.map((bag) => caseBaselineCall(baseline, bag.cellProbabilities, run.classNames.length));
      methods[baseline] = caseMetrics(calls.map((c) => c.probabilities), calls.map((c) => c.called), labels, run.classNames);
      calls.forEach((c, i) => {
        perCase[i].calls[baseline] = run.classNames[c.called];
        perCase[i].probabilities[baseline] = c.probabilities[c.called];
        perCase[i].distributions[baseline] = Array.from(c.probabilities);
      });
    }
    let keyInstances: CaseEvaluation['keyInstances'] = null;
    if (options.keyCellTypes) {
      const mapping = parseKeyCellTypes(options.keyCellTypes, run.classNames);
      if (!weights) {
        log('key-instance detection needs a case model (the baselines weigh every cell alike); train one with "aplnet train-case"');
      } else {
        const types = readCellTypeColumn(data);
        const judged: KeyInstanceCase[] = [];
        bags.forEach((bag, i) => {
          const key = mapping.get(run.classNames[bag.label]);
          if (!key) return;
          judged.push({ weights: weights![i], isKey: bag.paths.map((path) => key.has(types.get(path) ?? '')) });
        });
        keyInstances = { ...keyInstanceAuc(judged), mapping: Object.fromEntries([...mapping].map(([k, v]) => [k, [...v]])) };
      }
    }
    const method: CaseMethod = model ? 'case-model' : (caseLevel?.baseline ?? 'mean-probability');
    const { threshold } = caseCallThreshold({ calibration: run.calibration, caseLevel });
    const signed = perCase.filter((row) => !caseCallReferred(row.probabilities[method]!, threshold));
    const referral = { method, threshold, fitted: Boolean(caseLevel?.referral), referred: perCase.length - signed.length, notReferred: signed.length, notReferredRight: signed.filter((row) => row.calls[method] === row.label).length };
    return {
      data,
      splitName,
      cases: bags.length,
      cells: bags.reduce((n, bag) => n + bag.paths.length, 0),
      cellsSetAside,
      casesWithoutCells,
      baseline: caseLevel?.baseline ?? 'mean-probability',
      caseModel: model ? { encoder: model.encoderKind, heads: model.heads.length, temperature: model.temperature, file: model.file } : null,
      methods,
      keyInstances,
      perCase,
      referral,
    };
  } finally {
    await prepared.dataset.close();
  }
}

const METHOD_TITLES: Record<CaseMethod, string> = {
  'case-model': 'case model',
  'mean-probability': 'mean prob.',
  'mean-log-probability': 'mean log-prob.',
  'majority-vote': 'majority vote',
};

/** The case table a user reads in the terminal: one column per method, the run's baseline marked. */
export function formatCaseEvaluation(evaluation: CaseEvaluation): string {
  const methods = (Object.keys(METHOD_TITLES) as CaseMethod[]).filter((m) => evaluation.methods[m]);
  const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
  const num = (v: number | null) => (v === null ? '—' : v.toFixed(3));
  const rows: [string, (m: CaseMetrics) => string][] = [
    ['case accuracy', (m) => pct(m.accuracy)],
    ['case ROC-AUC', (m) => num(m.auc)],
    ['ECE', (m) => pct(m.ece)],
    ['Brier', (m) => num(m.brier)],
    ['log-loss', (m) => num(m.nll)],
  ];
  const header = ['', ...methods.map((m) => `${METHOD_TITLES[m]}${m === evaluation.baseline ? ' *' : ''}`)];
  const table = [header, ...rows.map(([title, pick]) => [title, ...methods.map((m) => pick(evaluation.methods[m]!))])];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
  const model = evaluation.caseModel ? `case model: ${evaluation.caseModel.encoder} encoder${evaluation.caseModel.heads > 1 ? `, ${evaluation.caseModel.heads} heads (mean of their probabilities)` : ''}, T = ${evaluation.caseModel.temperature.toFixed(3)}` : 'no case model (train one with "aplnet train-case")';
  const out = [
    `cases: ${evaluation.splitName === 'test' ? 'test split of' : 'all of'} ${evaluation.data}: ${evaluation.cases} cases, ${evaluation.cells} cells${evaluation.cellsSetAside ? ` (${evaluation.cellsSetAside} set aside as out of distribution and left out, as in the case summary${evaluation.casesWithoutCells.length ? `; ${evaluation.casesWithoutCells.length} case(s) with no cell left, not called` : ''})` : ''}; ${model}; * = the baseline that calls a case without a case model (chosen on validation cases)`,
    ...lines,
  ];
  const k = evaluation.keyInstances;
  if (k) {
    const mapping = Object.entries(k.mapping).map(([c, t]) => `${c}=${t.join('+')}`).join(', ');
    out.push(`key-instance detection (${mapping}): ROC-AUC of the case model's cell weights ${num(k.meanCaseAuc)} (mean over ${k.cases} cases), ${num(k.pooledAuc)} (pooled, ${k.keyCells} key / ${k.otherCells} other cells)`);
  }
  const r = evaluation.referral;
  out.push(`referral of the ${METHOD_TITLES[r.method]} calls below ${pct(r.threshold)} (${r.fitted ? 'the case referral threshold fitted for them' : "the run's referral threshold: none fitted for them"}): ${r.referred} of ${evaluation.cases} referred; ${r.notReferredRight} of the ${r.notReferred} not referred are right`);
  return out.join('\n');
}

/** Where evaluate writes the case evaluation, beside metrics.json. */
export const CASE_METRICS_FILE = 'case-metrics.json';

/** Writes the case evaluation as JSON (atomically) into `outDir`; returns its path. */
export function writeCaseEvaluation(outDir: string, evaluation: CaseEvaluation): string {
  const path = join(outDir, CASE_METRICS_FILE);
  writeJsonAtomic(path, evaluation);
  return path;
}
