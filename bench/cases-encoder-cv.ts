// `npm run bench -- cases --encoder-folds K [--dir DIR] [--seed S] [--threads N]`: issue 12's case
// figures cross-validated over the train+val cases with the WHOLE recipe inside every fold, so each
// case is called by an encoder that never saw its cells (the head-only CV of bench/cases.ts re-uses
// cells the encoder trained on, and the 23 test cases move by 4.3 points a case).
// - The manifest's train and val cases (its test rows are left out entirely, never trained on or
//   measured) are split into K folds by case, stratified by label (fold seed S).
// - For fold k a manifest is written (absolute paths) whose split column reads `test` for the fold's
//   cases and `train` for the others; with no `val` rows, train draws its validation patients from
//   the train rows as for any such manifest (15/85, stratified, fixed seed).
// - The recipe, as a user runs it: `aplnet train FOLD.csv --epochs 40 --patience 0 --keep last
//   --zoom auto --seed S` (calibration and the OOD check fitted on its validation patients), then
//   train-case and evaluate's own case code (bench/cases.ts trainAndEvaluate) on the fold's cases.
// - The figures pool the K folds' held-out calls: accuracy, ROC-AUC, ECE of the case model and the
//   three baselines over every case; the key-instance AUC is the mean over cases; referral counts add up.
// Each fold's cell run is kept under DIR (default a new temporary folder) and re-used when the
// benchmark is run again with the same DIR, so a killed run loses one fold at most.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argmax, CASE_BASELINES, caseMetrics } from '../src/eval/index.js';
import { formatCsvRow, parseCsvRows, stratifiedKFold } from '../src/data/index.js';
import type { CaseEvaluation, CaseRow } from '../src/run/index.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface EncoderFoldCall {
  fold: number;
  evaluation: CaseEvaluation;
}

/** The train+val cases of a case manifest, split into `folds` folds by case: one manifest per fold (absolute paths; that fold's cases `test`, the rest `train`). */
export function writeFoldManifests(data: string, folds: number, foldSeed: number, dir: string): string[] {
  const text = readFileSync(data, 'utf8');
  const [header, ...rows] = parseCsvRows(text).map((row) => row.cells);
  const column = (name: string) => {
    const at = header.indexOf(name);
    if (at < 0) throw new Error(`${data}: the encoder cross-validation needs a "${name}" column (header: ${header.join(',')})`);
    return at;
  };
  const [pathAt, labelAt, patientAt, splitAt] = [column('path'), column('label'), column('patient_id'), column('split')];
  const kept = rows.filter((row) => row[splitAt] === 'train' || row[splitAt] === 'val');
  if (kept.length === 0) throw new Error(`${data}: no train or val rows to cross-validate over`);
  const labelOf = new Map<string, string>();
  for (const row of kept) {
    const seen = labelOf.get(row[patientAt]);
    if (seen !== undefined && seen !== row[labelAt]) throw new Error(`${data}: patient ${row[patientAt]} has two labels (${seen}, ${row[labelAt]}); a case label belongs to the patient`);
    labelOf.set(row[patientAt], row[labelAt]);
  }
  const labelNames = [...new Set(labelOf.values())].sort();
  const foldOf = stratifiedKFold([...labelOf].map(([patient, label]) => ({ key: patient, label: labelNames.indexOf(label), group: patient })), folds, foldSeed);
  const base = dirname(resolve(data));
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: folds }, (_, k) => {
    const lines = [formatCsvRow(header)];
    for (const row of kept) {
      const cells = [...row];
      cells[pathAt] = isAbsolute(row[pathAt]) ? row[pathAt] : resolve(base, row[pathAt]);
      cells[splitAt] = foldOf.get(row[patientAt]) === k ? 'test' : 'train';
      lines.push(formatCsvRow(cells));
    }
    const path = join(dir, `fold-${k + 1}.csv`);
    const content = `${lines.join('\n')}\n`;
    // Re-used runs must have been trained on the same fold: refuse a differing manifest instead of overwriting it.
    if (existsSync(path) && readFileSync(path, 'utf8') !== content) {
      throw new Error(`${path} holds another fold assignment (another manifest, --encoder-folds or --seed); give another --dir`);
    }
    if (!existsSync(path)) writeFileSync(path, content);
    return path;
  });
}

/** Trains the fold's cell run with the case recipe unless DIR already holds a finished one (its model and its fitted OOD check). */
export function trainFoldRun(manifest: string, out: string, seed: number, threads: number, log: (l: string) => void): string {
  if (existsSync(join(out, 'model.safetensors')) && existsSync(join(out, 'ood.json'))) {
    log(`${out}: trained already, re-used`);
    return out;
  }
  if (existsSync(out)) throw new Error(`${out} holds an unfinished run (no model.safetensors or ood.json); remove it, or finish it with "aplnet train --resume ${out}", then run the benchmark again`);
  const args = ['train', manifest, '--out', out, '--epochs', '40', '--patience', '0', '--keep', 'last', '--zoom', 'auto', '--seed', String(seed), '--threads', String(threads)];
  log(`aplnet ${args.join(' ')}`);
  const trained = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (trained.status !== 0) throw new Error(`training the cell encoder of ${manifest} failed (exit ${trained.status}); see the lines above`);
  return out;
}

const round = (value: number | null | undefined): number | null => (value === null || value === undefined ? null : Math.round(value * 10000) / 10000);

/** The K folds' held-out case calls pooled into one set of figures. */
export function poolFoldCalls(calls: readonly EncoderFoldCall[], classes: readonly string[]) {
  const rows: CaseRow[] = calls.flatMap((c) => c.evaluation.perCase);
  const labels = rows.map((row) => classes.indexOf(row.label));
  const methods = ['case-model', ...CASE_BASELINES] as const;
  const metrics = Object.fromEntries(methods.map((method) => {
    const probabilities = rows.map((row) => {
      const p = row.distributions[method];
      if (!p) throw new Error(`case ${row.id} has no ${method} probabilities`);
      return p;
    });
    return [method, caseMetrics(probabilities, probabilities.map((p) => argmax(p)), labels, classes)];
  }));
  const keyed = calls.filter((c) => typeof c.evaluation.keyInstances?.meanCaseAuc === 'number');
  const keyCases = keyed.reduce((n, c) => n + c.evaluation.keyInstances!.cases, 0);
  const keyAuc = keyCases > 0 ? keyed.reduce((s, c) => s + c.evaluation.keyInstances!.meanCaseAuc! * c.evaluation.keyInstances!.cases, 0) / keyCases : null;
  const referral = calls.reduce((sum, c) => ({
    referred: sum.referred + c.evaluation.referral.referred,
    not_referred: sum.not_referred + c.evaluation.referral.notReferred,
    not_referred_right: sum.not_referred_right + c.evaluation.referral.notReferredRight,
  }), { referred: 0, not_referred: 0, not_referred_right: 0 });
  const errors = new Map<string, number>();
  for (const row of rows) {
    const called = row.calls['case-model'];
    if (called && called !== row.label) errors.set(`${row.label} → ${called}`, (errors.get(`${row.label} → ${called}`) ?? 0) + 1);
  }
  const pick = (f: (m: (typeof metrics)[string]) => number | null) => ({
    mil: round(f(metrics['case-model'])),
    mean_prob: round(f(metrics['mean-probability'])),
    mean_log_prob: round(f(metrics['mean-log-probability'])),
    vote: round(f(metrics['majority-vote'])),
  });
  return {
    cases: rows.length,
    cells_set_aside: calls.reduce((n, c) => n + c.evaluation.cellsSetAside, 0),
    case_accuracy: pick((m) => m.accuracy),
    case_auc: pick((m) => m.auc),
    case_ece: pick((m) => m.ece),
    case_log_loss: pick((m) => m.nll),
    key_instance_auc: round(keyAuc),
    referral,
    case_errors_mil: Object.fromEntries([...errors].sort()),
    wrong_cases_mil: rows.filter((row) => row.calls['case-model'] !== row.label).map((row) => row.id),
    // Every held-out call, to read a case's fate or combine methods afterwards.
    per_case: calls.flatMap((c) => c.evaluation.perCase.map((row) => ({
      id: row.id,
      label: row.label,
      fold: c.fold,
      cells: row.cells,
      calls: row.calls,
      distributions: Object.fromEntries(Object.entries(row.distributions).map(([method, p]) => [method, p!.map((v) => round(v))])),
    }))),
    per_fold: calls.map((c) => ({
      fold: c.fold,
      cases: c.evaluation.cases,
      accuracy_mil: round(c.evaluation.methods['case-model']?.accuracy),
      accuracy_mean_log_prob: round(c.evaluation.methods['mean-log-probability']?.accuracy),
      key_instance_auc: round(c.evaluation.keyInstances?.meanCaseAuc),
      referral_threshold: round(c.evaluation.referral.threshold),
    })),
  };
}

/** Where the fold runs live: --dir, or a new temporary folder. */
export function encoderFoldsDir(dir: string | undefined): string {
  return dir ? resolve(dir) : mkdtempSync(join(tmpdir(), 'aplnet-bench-encoder-cv-'));
}
