// The encoder cross-validation of `bench cases --encoder-folds K`: the fold manifests it trains on
// (every train+val case held out exactly once, the test rows never used, paths that resolve from
// anywhere) and the pooling of the folds' held-out calls, against values computed by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { poolFoldCalls, writeFoldManifests, type EncoderFoldCall } from '../bench/cases-encoder-cv.js';
import type { CaseEvaluation, CaseRow } from '../src/run/index.js';

function manifest(dir: string): string {
  const lines = ['path,label,patient_id,split,cell_type'];
  const labels = ['a', 'b', 'c'];
  for (let p = 0; p < 12; p++) {
    const split = p < 9 ? (p % 3 === 0 ? 'val' : 'train') : 'test';
    for (let c = 0; c < 3; c++) lines.push(`cells/p${p}-${c}.png,${labels[p % 3]},case-${p},${split},t${c}`);
  }
  const path = join(dir, 'manifest.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

test('fold manifests hold out every train+val case once, stratified, leave the test rows out and make paths absolute', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-encv-'));
  try {
    const data = manifest(dir);
    const folds = writeFoldManifests(data, 3, 0, join(dir, 'folds'));
    assert.equal(folds.length, 3);
    const heldOut = new Map<string, number>();
    for (const [k, path] of folds.entries()) {
      const rows = readFileSync(path, 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
      assert.equal(rows.length, 27, 'the 9 train+val cases × 3 cells, no test row');
      assert.ok(rows.every((row) => isAbsolute(row[0]) && row[0].endsWith('.png')));
      assert.ok(rows.every((row) => row[3] === 'train' || row[3] === 'test'));
      assert.ok(!rows.some((row) => ['case-9', 'case-10', 'case-11'].includes(row[2])), 'the manifest\'s test cases are never used');
      const held = new Set(rows.filter((row) => row[3] === 'test').map((row) => row[2]));
      assert.equal(held.size, 3);
      // Stratified: one case of each label per fold.
      assert.deepEqual(new Set(rows.filter((row) => row[3] === 'test').map((row) => row[1])), new Set(['a', 'b', 'c']));
      for (const id of held) heldOut.set(id, (heldOut.get(id) ?? 0) + 1);
      assert.equal(rows.filter((row) => row[3] === 'test').length, 9, `fold ${k + 1}: every cell of a held-out case is held out`);
    }
    assert.equal(heldOut.size, 9);
    assert.ok([...heldOut.values()].every((n) => n === 1));
    // The same call writes the same files (a re-run re-uses the fold runs); another assignment is refused, not overwritten.
    assert.deepEqual(writeFoldManifests(data, 3, 0, join(dir, 'folds')), folds);
    const before = readFileSync(folds[0], 'utf8');
    assert.throws(() => writeFoldManifests(data, 3, 1, join(dir, 'folds')), /holds another fold assignment.*another --dir/);
    assert.equal(readFileSync(folds[0], 'utf8'), before);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fold manifests refuse a manifest without patient ids, and a patient with two labels', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-encv-'));
  try {
    writeFileSync(join(dir, 'm.csv'), 'path,label,split\nx.png,a,train\n');
    assert.throws(() => writeFoldManifests(join(dir, 'm.csv'), 2, 0, join(dir, 'f')), /m\.csv: the encoder cross-validation needs a "patient_id" column/);
    writeFileSync(join(dir, 'two.csv'), 'path,label,patient_id,split\nx.png,a,p1,train\ny.png,b,p1,train\n');
    assert.throws(() => writeFoldManifests(join(dir, 'two.csv'), 2, 0, join(dir, 'g')), /patient p1 has two labels \(a, b\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function row(id: string, label: string, mil: number[], meanProb: number[]): CaseRow {
  const classes = ['x', 'y'];
  const call = (p: number[]) => classes[p[0] >= p[1] ? 0 : 1];
  const distributions = { 'case-model': mil, 'mean-probability': meanProb, 'mean-log-probability': meanProb, 'majority-vote': meanProb };
  return {
    id,
    label,
    cells: 10,
    calls: Object.fromEntries(Object.entries(distributions).map(([m, p]) => [m, call(p)])),
    probabilities: Object.fromEntries(Object.entries(distributions).map(([m, p]) => [m, Math.max(...p)])),
    distributions,
  };
}

function evaluation(rows: CaseRow[], key: { meanCaseAuc: number; cases: number }, referral: { referred: number; notReferred: number; notReferredRight: number }): CaseEvaluation {
  return {
    data: 'm.csv', splitName: 'test', cases: rows.length, cells: rows.length * 10, cellsSetAside: 1, casesWithoutCells: [],
    baseline: 'mean-log-probability', caseModel: null, methods: {},
    keyInstances: { meanCaseAuc: key.meanCaseAuc, pooledAuc: null, cases: key.cases, keyCells: 0, otherCells: 0, mapping: {} },
    perCase: rows,
    referral: { method: 'case-model', threshold: 0.8, fitted: true, ...referral },
  };
}

test('the folds\' held-out calls are pooled: accuracy over every case, key-instance AUC weighted by cases, referral counts summed', () => {
  const calls: EncoderFoldCall[] = [
    { fold: 1, evaluation: evaluation([row('c1', 'x', [0.9, 0.1], [0.6, 0.4]), row('c2', 'y', [0.3, 0.7], [0.7, 0.3])], { meanCaseAuc: 1, cases: 1 }, { referred: 0, notReferred: 2, notReferredRight: 2 }) },
    { fold: 2, evaluation: evaluation([row('c3', 'x', [0.4, 0.6], [0.8, 0.2]), row('c4', 'y', [0.2, 0.8], [0.1, 0.9])], { meanCaseAuc: 0.7, cases: 3 }, { referred: 1, notReferred: 1, notReferredRight: 1 }) },
  ];
  const pooled = poolFoldCalls(calls, ['x', 'y']);
  assert.equal(pooled.cases, 4);
  assert.equal(pooled.cells_set_aside, 2);
  assert.equal(pooled.case_accuracy.mil, 0.75); // c3 wrong
  assert.equal(pooled.case_accuracy.mean_prob, 0.75); // c2 wrong
  // AUC of p(y): positives c2 (0.7), c4 (0.8); negatives c1 (0.1), c3 (0.6) → every pair ranked right.
  assert.equal(pooled.case_auc.mil, 1);
  // mean prob.: p(y) c2 0.3, c4 0.9 against c1 0.4, c3 0.2 → 3 of 4 pairs.
  assert.equal(pooled.case_auc.mean_prob, 0.75);
  assert.equal(pooled.key_instance_auc, Math.round(((1 * 1 + 0.7 * 3) / 4) * 10000) / 10000);
  assert.deepEqual(pooled.referral, { referred: 1, not_referred: 3, not_referred_right: 3 });
  assert.deepEqual(pooled.case_errors_mil, { 'x → y': 1 });
  assert.deepEqual(pooled.wrong_cases_mil, ['c3']);
  assert.equal(pooled.per_fold.length, 2);
  assert.deepEqual(pooled.per_case.map((r) => [r.id, r.fold]), [['c1', 1], ['c2', 1], ['c3', 2], ['c4', 2]]);
  assert.deepEqual(pooled.per_case[2].distributions['case-model'], [0.4, 0.6]);
});
