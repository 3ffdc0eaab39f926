// Instance relabeling for a case-level cell encoder (train/case-relabel.ts): the labels against
// hand-worked bags (normal cases all normal, the top share of an abnormal case keyed, cells scoring
// like a normal case's labelled normal, the rest left out; the same whatever the cells' order), the
// class weights and the loss against hand-computed values (a left-out cell gets no gradient), and
// `aplnet train-relabeled` through the real command line on a tiny case manifest of real cells:
// relabel.json, the round count, the same test split, and the case level recorded.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromTypedArray } from '../src/torch/index.js';
import { instanceClassWeights, quantile, relabelCells, relabeledLoss, RelabelRecordSchema, type CaseBag } from '../src/train/index.js';
import { runPath } from '../src/run/index.js';
import { aplnet, trainArgs } from './helpers/tiny-run.js';

const CLASSES = ['erythroblastic', 'left-shift', 'normal'];
const [EB, LS, NORMAL] = [0, 1, 2];

/** A bag whose cells have the given score for `scoreClass` (the rest of each row shared equally). */
function bag(id: string, label: number, scoreClass: number, scores: number[]): CaseBag {
  return {
    id,
    label,
    paths: scores.map((_, i) => `/cells/${id}-${i}.jpg`),
    embeddings: scores.map(() => new Float32Array(2)),
    cellProbabilities: scores.map((s) => Float64Array.from(CLASSES.map((_, c) => (c === scoreClass ? s : (1 - s) / 2)))),
  };
}

// Normal case: p(left-shift) 0.1..0.4 (median 0.25); p(erythroblastic) = (1 - s)/2: 0.45, 0.4, 0.35, 0.3 (median 0.375).
const normalBag = bag('n1', NORMAL, LS, [0.1, 0.2, 0.3, 0.4]);
const leftShift = bag('l1', LS, LS, [0.9, 0.8, 0.5, 0.3, 0.25, 0.2, 0.1, 0.05, 0.6, 0.26]);
const erythro = bag('e1', EB, EB, [0.7, 0.375, 0.05]);

test('quantile interpolates linearly between the sorted values', () => {
  assert.equal(quantile([0.4, 0.1, 0.3, 0.2], 0.5), 0.25);
  assert.equal(quantile([1, 2, 3, 4, 5], 0.25), 2);
  assert.ok(Math.abs(quantile([0, 10], 0.9) - 9) < 1e-12);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

test('relabelCells: normal cases normal, the top share of an abnormal case keyed, normal-looking cells normal, the rest left out', () => {
  const r = relabelCells([normalBag, leftShift, erythro], CLASSES, 'normal', { keyShare: 0.2, normalQuantile: 0.5 });
  assert.deepEqual(r.thresholds, { erythroblastic: 0.375, 'left-shift': 0.25, normal: null });
  for (const path of normalBag.paths) assert.equal(r.labels.get(path), NORMAL);
  // round(0.2 × 10) = 2 key cells: 0.9 and 0.8; ≤ 0.25: 0.25, 0.2, 0.1, 0.05; left out: 0.5, 0.3, 0.6, 0.26.
  const ls = leftShift.paths.map((path) => r.labels.get(path));
  assert.deepEqual(ls, [LS, LS, null, null, NORMAL, NORMAL, NORMAL, NORMAL, null, null]);
  // max(1, round(0.6)) = 1 key cell; 0.375 ≤ the threshold (a tie counts as normal); 0.05 too.
  assert.deepEqual(erythro.paths.map((path) => r.labels.get(path)), [EB, NORMAL, NORMAL]);
  assert.deepEqual(r.counts, { erythroblastic: 1, 'left-shift': 2, normal: 10, 'left out': 4 });
  assert.deepEqual(r.abnormalCells, { key: 3, normal: 6, leftOut: 4 });
});

test('relabelCells does not depend on the order of the cells or of the cases', () => {
  const order = [3, 7, 0, 9, 1, 5, 2, 8, 4, 6];
  const shuffled: CaseBag = { ...leftShift, paths: order.map((i) => leftShift.paths[i]), embeddings: order.map((i) => leftShift.embeddings[i]), cellProbabilities: order.map((i) => leftShift.cellProbabilities[i]) };
  const a = relabelCells([normalBag, leftShift, erythro], CLASSES, 'normal');
  const b = relabelCells([erythro, shuffled, normalBag], CLASSES, 'normal');
  assert.deepEqual(new Map([...b.labels].sort()), new Map([...a.labels].sort()));
  // Ties in score are broken by path, not by position.
  const tied = bag('t1', LS, LS, [0.5, 0.5, 0.5, 0.5]);
  const reversed: CaseBag = { ...tied, paths: [...tied.paths].reverse() };
  const x = relabelCells([normalBag, tied], CLASSES, 'normal', { keyShare: 0.25, normalQuantile: 0.5 });
  const y = relabelCells([normalBag, reversed], CLASSES, 'normal', { keyShare: 0.25, normalQuantile: 0.5 });
  assert.equal(x.labels.get('/cells/t1-0.jpg'), LS);
  assert.equal(y.labels.get('/cells/t1-0.jpg'), LS);
});

test('relabelCells refuses what it cannot label: no normal class, no normal case, a share out of range', () => {
  assert.throws(() => relabelCells([normalBag], CLASSES, 'healthy'), /"healthy", among the run's classes \(erythroblastic, left-shift, normal\); name it with --normal-class/);
  assert.throws(() => relabelCells([leftShift, erythro], CLASSES, 'normal'), /no "normal" case/);
  assert.throws(() => relabelCells([normalBag], CLASSES, 'normal', { keyShare: 0, normalQuantile: 0.5 }), /--key-share must be a share in \(0, 1\], got 0/);
  assert.throws(() => relabelCells([normalBag], CLASSES, 'normal', { keyShare: 0.15, normalQuantile: 1.5 }), /--normal-quantile must be in \[0, 1\], got 1.5/);
});

test('instanceClassWeights: inverse frequency over the labelled cells, mean weight 1', () => {
  const r = relabelCells([normalBag, leftShift, erythro], CLASSES, 'normal', { keyShare: 0.2, normalQuantile: 0.5 });
  const w = instanceClassWeights(r, CLASSES);
  // 13 labelled cells: 1, 2, 10 → 13/3, 13/6, 13/30.
  [13 / 3, 13 / 6, 13 / 30].forEach((expected, c) => assert.ok(Math.abs(w[c] - expected) < 1e-6, `${w[c]} vs ${expected}`));
  const mean = (1 * w[0] + 2 * w[1] + 10 * w[2]) / 13;
  assert.ok(Math.abs(mean - 1) < 1e-6);
});

test('relabeledLoss: class-weighted cross-entropy over the labelled cells; a left-out cell gets no gradient; an unknown cell is refused', () => {
  const relabeling = { labels: new Map<string, number | null>([['a', EB], ['b', null], ['c', NORMAL]]), thresholds: {}, counts: {}, abnormalCells: { key: 0, normal: 0, leftOut: 0 } };
  const weights = Float32Array.from([2, 1, 0.5]);
  const rows = [[1, 0, -1], [0.5, 2, 0], [0, 1, 3]];
  const logits = fromTypedArray(Float32Array.from(rows.flat()), [3, 3]);
  logits.requiresGrad = true;
  const caseLabels = fromTypedArray(BigInt64Array.from([1n, 1n, 1n]), [3]);
  const loss = relabeledLoss(relabeling, weights, 0)(logits, caseLabels, ['a', 'b', 'c']);
  const ce = (row: number[], k: number) => Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[k];
  const expected = (2 * ce(rows[0], EB) + 0.5 * ce(rows[2], NORMAL)) / 2.5;
  assert.ok(Math.abs(loss.item() - expected) < 1e-5, `${loss.item()} vs ${expected}`);
  loss.backward();
  const grad = Array.from(logits.grad!.data<'float32'>());
  assert.deepEqual(grad.slice(3, 6).map(Math.abs), [0, 0, 0]);
  assert.ok(grad.slice(0, 3).some((g) => Math.abs(g) > 1e-3));
  assert.throws(() => relabeledLoss(relabeling, weights, 0)(logits, caseLabels, ['a', 'z', 'c']), /z has no instance label/);
  logits.dispose();
  caseLabels.dispose();
  loss.dispose();
});

// ---- through the command line, on a tiny case manifest of real pbc-cases cells ----
const CASES_MANIFEST = fileURLToPath(new URL('../../../shared/data/pbc-cases/manifest.csv', import.meta.url));
let root: string;
let manifest: string;
let run: string;

/** Three train, one val and one test case per class, six cells each, absolute paths, no cell_type column. */
function tinyCases(dir: string): string {
  const wanted: Record<string, number> = { train: 3, val: 1, test: 1 };
  const perKey = new Map<string, Set<string>>();
  const cells = new Map<string, string[]>();
  for (const line of readFileSync(CASES_MANIFEST, 'utf8').trim().split('\n').slice(1)) {
    const [path, label, patient, split] = line.split(',');
    const key = `${label}/${split}`;
    const taken = perKey.get(key) ?? new Set<string>();
    if (!taken.has(patient) && taken.size >= wanted[split]) continue;
    taken.add(patient);
    perKey.set(key, taken);
    const rows = cells.get(patient) ?? [];
    if (rows.length < 6) rows.push([resolve(dirname(CASES_MANIFEST), path), label, patient, split].join(','));
    cells.set(patient, rows);
  }
  const out = join(dir, 'cases.csv');
  writeFileSync(out, ['path,label,patient_id,split', ...[...cells.values()].flat()].join('\n') + '\n');
  return out;
}

const relabelArgs = (from: string, out: string, ...extra: string[]) => ['train-relabeled', from, '--out', out, '--epochs', '1', '--batch', '8', '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache'), ...extra];
const testCells = (dir: string) => Object.entries(JSON.parse(readFileSync(runPath(dir, 'split'), 'utf8')).assignments as Record<string, string>).filter(([, s]) => s === 'test').map(([p]) => p).sort();

before(() => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-relabel-'));
  manifest = tinyCases(root);
  run = join(root, 'round-1');
  const trained = aplnet(trainArgs(manifest, run, root, '--epochs', '1', '--size', '32'));
  assert.equal(trained.status, 0, trained.stderr);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('aplnet train-relabeled trains round 2 on instance labels with the same split, records where they came from, and round 3 follows from it', () => {
  const round2 = join(root, 'round-2');
  const made = aplnet(relabelArgs(run, round2, '--key-share', '0.2'));
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /next: aplnet train-case/);
  const record = RelabelRecordSchema.parse(JSON.parse(readFileSync(join(round2, 'relabel.json'), 'utf8')));
  assert.equal(record.round, 2);
  assert.equal(record.from, run);
  assert.equal(record.keyShare, 0.2);
  assert.equal(record.normalQuantile, 0.5);
  assert.equal(record.trainCases, 9);
  // 9 train cases × 6 cells: every one labelled or left out; 3 normal cases' 18 cells at least normal; round(0.2 × 6) = 1 key cell per abnormal case.
  assert.equal(Object.values(record.counts).reduce((a, b) => a + b, 0), 54);
  assert.ok(record.counts.normal >= 18);
  assert.equal(record.counts['left-shift'], 3);
  assert.equal(record.counts.erythroblastic, 3);
  assert.equal(record.abnormalCells.key + record.abnormalCells.normal + record.abnormalCells.leftOut, 36);
  const config = JSON.parse(readFileSync(runPath(round2, 'config'), 'utf8'));
  assert.equal(config.training.data, manifest);
  assert.equal(config.model.inputSize, 32, "the previous run's recipe (its input size) is kept");
  assert.deepEqual(testCells(round2), testCells(run));
  assert.ok(JSON.parse(readFileSync(runPath(round2, 'caseLevel'), 'utf8')).baseline, 'recorded as a case-level run');

  const round3 = join(root, 'round-3');
  const next = aplnet(relabelArgs(round2, round3));
  assert.equal(next.status, 0, next.stderr);
  const third = RelabelRecordSchema.parse(JSON.parse(readFileSync(join(round3, 'relabel.json'), 'utf8')));
  assert.equal(third.round, 3);
  assert.equal(third.from, round2);
  assert.equal(third.keyShare, 0.15);
});

test('aplnet train-relabeled refuses a run whose normal class it cannot find, and an output folder that holds a run', () => {
  const bad = aplnet(relabelArgs(run, join(root, 'nope'), '--normal-class', 'healthy'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /"healthy", among the run's classes/);
  const taken = aplnet(relabelArgs(run, run));
  assert.equal(taken.status, 1);
  assert.match(taken.stderr, /already holds a run/);
});
