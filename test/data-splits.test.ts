import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { balancedEpochOrder, classCounts, inverseFrequencyClassWeights } from '../src/data/class-balance.js';
import { DataError } from '../src/data/errors.js';
import { assertGroupsDisjoint, computeSplit, foldAssignments, loadSplitFile, saveSplitFile } from '../src/data/split-file.js';
import { stratifiedHoldout, stratifiedKFold, type SplitItem } from '../src/data/stratified-split.js';
import { makeTempDir } from './data-fixtures.js';

/** 3 classes of 100/60/20 images; 40 patients, each with one class (as with APL subtypes). */
function patientItems(): SplitItem[] {
  const items: SplitItem[] = [];
  const perClass = [100, 60, 20];
  perClass.forEach((count, label) => {
    for (let i = 0; i < count; i++) items.push({ key: `c${label}/img${i}.jpg`, label, group: `patient ${label}-${i % (label === 2 ? 4 : 18)}` });
  });
  return items;
}

test('image-level holdout is stratified: every class is split in the asked proportions', () => {
  const items = patientItems().map((item) => ({ ...item, group: item.key }));
  const assignment = stratifiedHoldout(items, { train: 0.7, val: 0.15, test: 0.15 }, 1);
  for (const [label, total] of [
    [0, 100],
    [1, 60],
    [2, 20],
  ]) {
    const inTrain = items.filter((item) => item.label === label && assignment.get(item.key) === 'train').length;
    const inTest = items.filter((item) => item.label === label && assignment.get(item.key) === 'test').length;
    assert.ok(Math.abs(inTrain - 0.7 * total) <= 1, `class ${label}: ${inTrain} in train`);
    assert.ok(Math.abs(inTest - 0.15 * total) <= 1, `class ${label}: ${inTest} in test`);
  }
  assert.deepEqual(stratifiedHoldout(items, { train: 0.7, val: 0.15, test: 0.15 }, 1), assignment, 'same seed, same split');
  assert.notDeepEqual(stratifiedHoldout(items, { train: 0.7, val: 0.15, test: 0.15 }, 2), assignment, 'another seed, another split');
});

test('patient-level holdout never puts a patient in two splits and stays near the fractions', () => {
  const items = patientItems();
  const split = computeSplit(items, { kind: 'holdout', fractions: { train: 0.6, val: 0.2, test: 0.2 }, seed: 3 }, 'patient');
  assertGroupsDisjoint(items, split.assignments);
  const patientsIn = (name: string) => new Set(items.filter((item) => split.assignments[item.key] === name).map((item) => item.group));
  for (const a of ['train', 'val', 'test']) {
    for (const b of ['train', 'val', 'test']) {
      if (a < b) assert.equal([...patientsIn(a)].filter((patient) => patientsIn(b).has(patient)).length, 0);
    }
  }
  const trainShare = items.filter((item) => split.assignments[item.key] === 'train').length / items.length;
  assert.ok(trainShare > 0.5 && trainShare < 0.7, `train share ${trainShare}`);
});

test('k-fold: folds partition the data, keep patients whole, and are balanced', () => {
  const items = patientItems();
  const folds = stratifiedKFold(items, 5, 9);
  assert.equal(folds.size, items.length);
  const sizes = [0, 0, 0, 0, 0];
  for (const fold of folds.values()) sizes[fold]++;
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 10, `fold sizes ${sizes}`);
  const foldOfPatient = new Map<string, number>();
  for (const item of items) {
    const fold = folds.get(item.key)!;
    assert.equal(foldOfPatient.get(item.group) ?? fold, fold);
    foldOfPatient.set(item.group, fold);
  }
  const split = computeSplit(items, { kind: 'k-fold', folds: 5, fold: 2, seed: 9 }, 'patient');
  assert.deepEqual(split.assignments, foldAssignments(split.folds!, 2));
  assert.equal(Object.values(split.assignments).filter((name) => name === 'val').length, sizes[2]);
});

test('a patient in two splits is refused; split.json round-trips', async () => {
  const items: SplitItem[] = [
    { key: 'a.jpg', label: 0, group: 'patient P1' },
    { key: 'b.jpg', label: 0, group: 'patient P1' },
  ];
  assert.throws(
    () => assertGroupsDisjoint(items, { 'a.jpg': 'train', 'b.jpg': 'test' }),
    (error: DataError) => error.reason === 'patient-in-two-splits' && error.message.includes('P1'),
  );
  const dir = await makeTempDir('split');
  try {
    const split = computeSplit(patientItems(), { kind: 'holdout', fractions: { train: 0.8, val: 0.1, test: 0.1 }, seed: 5 }, 'patient');
    await saveSplitFile(join(dir, 'split.json'), split);
    assert.deepEqual(await loadSplitFile(join(dir, 'split.json')), split);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(() => computeSplit(items, { kind: 'holdout', fractions: { train: 0.5, val: 0.1, test: 0.1 }, seed: 0 }, 'image'), DataError);
});

test('class weights are inverse frequency with mean 1 per sample; the balanced sampler evens classes out', () => {
  const labels = Int32Array.from([...new Array(90).fill(0), ...new Array(10).fill(1)]);
  const weights = inverseFrequencyClassWeights(labels, 3);
  assert.ok(Math.abs(weights[0] - 100 / (2 * 90)) < 1e-12);
  assert.ok(Math.abs(weights[1] - 100 / (2 * 10)) < 1e-12);
  assert.equal(weights[2], 0, 'absent class');
  const perSample = 90 * weights[0] + 10 * weights[1];
  assert.ok(Math.abs(perSample / 100 - 1) < 1e-12);
  const order = balancedEpochOrder(labels, 3, 4, 0, 2000);
  const counts = classCounts(Int32Array.from(order, (i) => labels[i]), 3);
  assert.ok(Math.abs(counts[0] - counts[1]) < 200, `balanced draws ${counts}`);
  assert.deepEqual(balancedEpochOrder(labels, 3, 4, 0, 2000), order);
  assert.notDeepEqual(balancedEpochOrder(labels, 3, 4, 1, 2000), order, 'each epoch differs');
});
