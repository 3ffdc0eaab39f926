// Distillation: the loss reads the teacher's soft targets of each image by its path, and a student
// distilled from a tiny ensemble is a normal run that loads and predicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, fromTypedArray, setNumThreads, tensor, tidy } from '../src/torch/index.js';
import { disposeRun, loadRun, predictImages, teacherSoftTargets, type ImagePrediction } from '../src/run/index.js';
import { DISTILLATION_FILE, distillationLoss, type TeacherTargets } from '../src/train/index.js';
import { aplnet, tinyDataset, trainArgs } from './helpers/tiny-run.js';

setNumThreads(1);

const teacherOf = (rows: Record<string, number[]>): TeacherTargets => ({
  classNames: ['a', 'b', 'c'],
  byPath: new Map(Object.entries(rows).map(([path, probs]) => [path, Float32Array.from(probs, Math.log)])),
});

/** τ²·KL(softmax(t/τ) ‖ softmax(s/τ)) + α·CE, written out in plain numbers. */
function expectedLoss(teacher: number[][], student: number[][], labels: number[], tau: number, alpha: number): number {
  const softmax = (z: number[]) => {
    const top = Math.max(...z);
    const e = z.map((v) => Math.exp(v - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  };
  let kl = 0, ce = 0;
  teacher.forEach((t, i) => {
    const p = softmax(t.map((v) => Math.log(v) / tau));
    const q = softmax(student[i].map((v) => v / tau));
    kl += p.reduce((sum, pk, k) => sum + pk * Math.log(pk / q[k]), 0);
    ce += -Math.log(softmax(student[i])[labels[i]]);
  });
  return (tau * tau * kl) / teacher.length + (alpha * ce) / teacher.length;
}

test('the distillation loss reads each image’s soft target from the teacher, by path', () => {
  const rows = { '/x/one.png': [0.7, 0.2, 0.1], '/x/two.png': [0.05, 0.05, 0.9] };
  const student = [[1.0, -0.5, 0.2], [0.3, 0.1, 2.0]];
  const labels = [0, 2];
  for (const [tau, alpha] of [[1, 0], [2, 0.5], [4, 1]]) {
    const value = tidy(() => distillationLoss(teacherOf(rows), { temperature: tau, alpha })(tensor(student.flat()).reshape([2, 3]), tensor(labels, { dtype: 'int64' }), ['/x/one.png', '/x/two.png']).item());
    assert.ok(Math.abs(value - expectedLoss(Object.values(rows), student, labels, tau, alpha)) < 1e-4, `τ ${tau}, α ${alpha}: ${value}`);
  }
  // Another teacher answer for the same image gives another loss: the targets are what is read.
  const swapped = tidy(() => distillationLoss(teacherOf({ '/x/one.png': [0.1, 0.2, 0.7] }), { temperature: 2, alpha: 0 })(tensor([1.0, -0.5, 0.2]).reshape([1, 3]), tensor([0], { dtype: 'int64' }), ['/x/one.png']).item());
  const original = tidy(() => distillationLoss(teacherOf(rows), { temperature: 2, alpha: 0 })(tensor([1.0, -0.5, 0.2]).reshape([1, 3]), tensor([0], { dtype: 'int64' }), ['/x/one.png']).item());
  assert.ok(swapped > original + 0.1);
  // A student that already gives the teacher's probabilities has nothing left to learn from it.
  const matched = tidy(() => distillationLoss(teacherOf(rows), { temperature: 3, alpha: 0 })(fromTypedArray(Float32Array.from([0.7, 0.2, 0.1], Math.log), [1, 3]), tensor([0], { dtype: 'int64' }), ['/x/one.png']).item());
  assert.ok(Math.abs(matched) < 1e-6);
  // An image the teacher did not answer is an error naming it, never a silent zero target.
  assert.throws(() => tidy(() => distillationLoss(teacherOf(rows), { temperature: 2, alpha: 0.5 })(F.cat([tensor([0, 0, 0]).reshape([1, 3])], 0), tensor([0], { dtype: 'int64' }), ['/x/three.png'])), /no soft target for \/x\/three\.png/);
});

test('a student distilled from a tiny ensemble is a run that loads and predicts, trained on the teacher’s soft targets', async () => {
  const root = mkdtempSync(join(tmpdir(), 'aplnet-distill-'));
  try {
    const data = tinyDataset(root, 6);
    const teacher = join(root, 'teacher');
    const folds = aplnet(trainArgs(data, teacher, root, '--folds', '2', '--epochs', '1', '--zoom', '1.5'));
    assert.equal(folds.status, 0, folds.stderr);
    const student = join(root, 'student');
    const distilled = aplnet(['distill', teacher, '--out', student, '--epochs', '1', '--batch', '8', '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache'), '--temperature', '3', '--alpha', '0.25']);
    assert.equal(distilled.status, 0, distilled.stderr);
    const record = JSON.parse(readFileSync(join(student, DISTILLATION_FILE), 'utf8'));
    assert.equal(record.teacher, teacher);
    assert.deepEqual(record.members, [join(teacher, 'fold-0'), join(teacher, 'fold-1')]);
    assert.equal(record.temperature, 3);
    assert.equal(record.alpha, 0.25);
    assert.equal(record.images, 18);
    assert.equal(JSON.parse(readFileSync(join(student, 'config.json'), 'utf8')).training.patience, 0, 'the student runs its whole schedule unless --patience is given');
    assert.equal(JSON.parse(readFileSync(join(student, 'preprocessing.json'), 'utf8')).preprocessing.zoom, 1.5, 'the student reads an image as its teacher does');
    // An ensemble of folds learned from every image: the student has no test split of them.
    const split = JSON.parse(readFileSync(join(student, 'split.json'), 'utf8'));
    assert.ok(!Object.values(split.assignments).includes('test'));

    const run = await loadRun(student);
    const teacherRun = await loadRun(teacher);
    try {
      assert.equal(run.members, undefined);
      assert.equal(run.config.model.head, 'attention-pool');
      // The teacher's soft targets cover every image the student trains on.
      const targets = await teacherSoftTargets(teacherRun, teacherRun.calibration!.tta, { cacheDir: join(root, 'cache'), workers: 0 });
      assert.equal(targets.byPath.size, 18);
      const image = join(data, 'eosinophil', readdirSync(join(data, 'eosinophil')).sort()[0]);
      assert.ok(targets.byPath.has(image));
      const [answer] = (await predictImages(run, [image], { maps: ['attention-pool'] })) as ImagePrediction[];
      assert.ok(answer.ok);
      assert.ok(Math.abs(Object.values(answer.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-6);
      assert.ok(existsSync(join(student, 'calibration.json')));
    } finally {
      disposeRun(run);
      disposeRun(teacherRun);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
