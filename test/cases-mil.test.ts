// The case model's gated attention MIL pooling: the order of the cells cannot matter, a bag of one
// cell gives that cell all the weight, and the pooling is the paper's, checked against a PyTorch
// reference (test/reference/cases_mil_reference.py) on the same fixed weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaseModel, caseSoftmax, combineHeads, GatedAttentionMil, type CaseMilConfig } from '../src/model/index.js';
import { fromTypedArray, loadSafetensors, manualSeed, noGrad, randn, saveSafetensors, tidy } from '../src/torch/index.js';
import { PYTHON, REFERENCE_DIR } from './helpers/python.js';

const config: CaseMilConfig = { embeddingDim: 12, hiddenDim: 10, attentionDim: 6, numClasses: 3, dropout: 0.25 };

/** A model with non-trivial standardisation and random weights, and a bag of `k` random cells. */
function fixture(k: number, seed = 3): { mil: GatedAttentionMil; bag: Float32Array[] } {
  manualSeed(seed);
  const mil = new GatedAttentionMil(config);
  const mean = Float32Array.from({ length: config.embeddingDim }, (_, i) => 0.1 * i - 0.4);
  const std = Float32Array.from({ length: config.embeddingDim }, (_, i) => 0.5 + 0.1 * i);
  mil.setInputStatistics(mean, std);
  const flat = tidy(() => randn([k, config.embeddingDim]).mul(1.5).data<'float32'>());
  const bag = Array.from({ length: k }, (_, i) => flat.slice(i * config.embeddingDim, (i + 1) * config.embeddingDim));
  return { mil: mil.eval(), bag };
}

function caseModelOf(mil: GatedAttentionMil): CaseModel {
  return new CaseModel({ heads: [mil], classNames: ['a', 'b', 'c'], temperature: 1.3, encoderKind: 'frozen', encoder: null, embeddingViews: 1, file: 'case-model.safetensors', sha256: '0'.repeat(64) });
}

test('permuting the cells permutes the weights and leaves the case probabilities unchanged', () => {
  const { mil, bag } = fixture(9);
  const model = caseModelOf(mil);
  try {
    const before = model.predict(bag);
    const order = [4, 0, 8, 2, 7, 1, 6, 3, 5];
    const after = model.predict(order.map((i) => bag[i]));
    for (const name of model.classNames) assert.ok(Math.abs(before.probabilities[name] - after.probabilities[name]) < 1e-6, `p(${name}) changed with the order of the cells`);
    order.forEach((from, to) => assert.ok(Math.abs(after.weights[to] - before.weights[from]) < 1e-6, `cell ${from}'s weight did not move with it`));
    assert.ok(Math.abs(before.weights.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'the weights sum to 1');
    assert.ok(before.weights.every((w) => w > 0));
    // The weights are a real ranking, not uniform: random weights give distinct scores.
    assert.ok(Math.max(...before.weights) - Math.min(...before.weights) > 1e-3);
  } finally {
    model.dispose();
  }
});

test('a bag of one cell gives it weight 1, and its call is the classifier of that one cell', () => {
  const { mil, bag } = fixture(1);
  const model = caseModelOf(mil);
  try {
    const { weights, probabilities } = model.predict(bag);
    assert.deepEqual(weights.length, 1);
    assert.ok(Math.abs(weights[0] - 1) < 1e-6);
    const total = Object.values(probabilities).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - 1) < 1e-9);
  } finally {
    model.dispose();
  }
});

test('the case model refuses an empty case, a wrong embedding length and a NaN embedding, naming the problem', () => {
  const { mil, bag } = fixture(3);
  const model = caseModelOf(mil);
  try {
    assert.throws(() => model.predict([]), /at least one cell/);
    assert.throws(() => model.predict([bag[0], bag[1].subarray(0, 5)]), /cell 1 has an embedding of length 5.*another cell model/);
    const bad = Float32Array.from(bag[2]);
    bad[3] = Number.NaN;
    assert.throws(() => model.predict([bag[0], bad]), /cell 1's embedding holds NaN/);
  } finally {
    model.dispose();
  }
});

test('the gated attention pooling matches the PyTorch reference on the same weights', () => {
  const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0;
  assert.ok(!torchMissing, `${PYTHON} cannot import torch (install Debian's python3-torch)`);
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-mil-'));
  const { mil, bag } = fixture(17, 11);
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    mil.save(join(dir, 'mil.safetensors'));
    const flat = new Float32Array(bag.length * config.embeddingDim);
    bag.forEach((e, i) => flat.set(e, i * config.embeddingDim));
    const input = fromTypedArray(flat, [bag.length, config.embeddingDim]);
    saveSafetensors(join(dir, 'bag.safetensors'), { bag: input });
    const run = spawnSync(PYTHON, [join(REFERENCE_DIR, 'cases_mil_reference.py'), join(dir, 'config.json'), join(dir, 'mil.safetensors'), join(dir, 'bag.safetensors'), join(dir, 'out.safetensors')], {
      encoding: 'utf8', env: { ...process.env, PYTHONPATH: REFERENCE_DIR },
    });
    assert.equal(run.status, 0, `reference failed:\n${run.stderr}`);
    const reference = loadSafetensors(join(dir, 'out.safetensors')).tensors;
    const ours = noGrad(() => mil.forward(input));
    const diff = (a: Float32Array, b: Float32Array) => Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])));
    const refLogits = reference.get('logits')!.data<'float32'>();
    const refWeights = reference.get('weights')!.data<'float32'>();
    assert.ok(diff(ours.logits.data<'float32'>(), refLogits) < 1e-5, 'logits differ from PyTorch');
    assert.ok(diff(ours.weights.data<'float32'>(), refWeights) < 1e-6, 'cell weights differ from PyTorch');
    for (const t of [input, ours.logits, ours.weights, ...reference.values()]) t.dispose();
  } finally {
    mil.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dropout acts in training only: eval-mode outputs are deterministic', () => {
  const { mil, bag } = fixture(6);
  const model = caseModelOf(mil);
  try {
    assert.deepEqual(model.scores(bag), model.scores(bag));
  } finally {
    model.dispose();
  }
});

test('an ensemble of heads calls the mean of their probabilities and weights each cell by the mean of their weights', () => {
  const a = fixture(7, 3);
  const b = fixture(7, 5);
  const single = [caseModelOf(a.mil), caseModelOf(b.mil)];
  const ensemble = new CaseModel({ heads: [a.mil, b.mil], classNames: ['a', 'b', 'c'], temperature: 1, encoderKind: 'frozen', encoder: null, embeddingViews: 1, file: 'case-model.safetensors', sha256: '0'.repeat(64) });
  try {
    const bag = a.bag;
    const parts = single.map((model) => model.scores(bag));
    const call = ensemble.predict(bag);
    ['a', 'b', 'c'].forEach((name, c) => {
      const mean = (caseSoftmax(parts[0].logits, 1)[c] + caseSoftmax(parts[1].logits, 1)[c]) / 2;
      assert.ok(Math.abs(call.probabilities[name] - mean) < 1e-9, `p(${name}) is the mean of the two heads'`);
    });
    call.weights.forEach((w, k) => assert.ok(Math.abs(w - (parts[0].weights[k] + parts[1].weights[k]) / 2) < 1e-9));
    assert.ok(Math.abs(call.weights.reduce((s, w) => s + w, 0) - 1) < 1e-6);
    // Still blind to the order of the cells.
    const reversed = ensemble.predict([...bag].reverse());
    for (const name of ['a', 'b', 'c']) assert.ok(Math.abs(reversed.probabilities[name] - call.probabilities[name]) < 1e-6);
  } finally {
    ensemble.dispose(); // owns both heads
  }
});

test('combineHeads: hand-computed mean of two heads; one head passes through; a temperature acts on the log of the mean', () => {
  // Head 1: softmax([0, ln 3]) = [0.25, 0.75]; head 2: softmax([ln 3, 0]) = [0.75, 0.25]; mean [0.5, 0.5].
  const out = combineHeads([[0, Math.log(3)], [Math.log(3), 0]], [[1, 0], [0.5, 0.5]]);
  const p = caseSoftmax(out.logits, 1);
  assert.ok(Math.abs(p[0] - 0.5) < 1e-12 && Math.abs(p[1] - 0.5) < 1e-12);
  assert.deepEqual(out.weights, [0.75, 0.25]);
  assert.deepEqual(combineHeads([[1, 2, 3]], [[1]]), { logits: [1, 2, 3], weights: [1] });
  // Mean [0.1, 0.9] at T = 2 is ∝ [√0.1, √0.9].
  const sharp = combineHeads([[Math.log(0.1), Math.log(0.9)], [Math.log(0.1), Math.log(0.9)]], [[1], [1]]);
  const soft = caseSoftmax(sharp.logits, 2);
  assert.ok(Math.abs(soft[0] - Math.sqrt(0.1) / (Math.sqrt(0.1) + Math.sqrt(0.9))) < 1e-9);
  assert.throws(() => combineHeads([], []), /combineHeads/);
  assert.throws(() => combineHeads([[0, 1], [0, 1, 2]], [[1], [1]]), /heads with 2 and 3 classes/);
});

test('a case model refuses heads of different configurations, and no heads', () => {
  const a = fixture(2, 3);
  const other = new GatedAttentionMil({ ...config, hiddenDim: 7 });
  try {
    assert.throws(() => new CaseModel({ heads: [a.mil, other], classNames: ['a', 'b', 'c'], temperature: 1, encoderKind: 'frozen', encoder: null, embeddingViews: 1, file: 'f.safetensors', sha256: '' }), /f\.safetensors: the case model's heads differ in configuration/);
    assert.throws(() => new CaseModel({ heads: [], classNames: ['a', 'b', 'c'], temperature: 1, encoderKind: 'frozen', encoder: null, embeddingViews: 1, file: 'f.safetensors', sha256: '' }), /at least one MIL head/);
  } finally {
    a.mil.dispose();
    other.dispose();
  }
});

test('attention-mean pooling: the classifier reads the attention-weighted mean beside the plain mean; order-free; a bag of one', () => {
  manualSeed(5);
  const mil = new GatedAttentionMil({ ...config, pooling: 'attention-mean' }).eval();
  try {
    assert.deepEqual(mil.classifier.weight.shape, [config.numClasses, 2 * config.hiddenDim]);
    const flat = tidy(() => randn([7, config.embeddingDim]).data<'float32'>());
    const cells = fromTypedArray(flat, [7, config.embeddingDim]);
    const order = [3, 6, 0, 5, 1, 4, 2];
    const permuted = fromTypedArray(Float32Array.from(order.flatMap((i) => Array.from(flat.slice(i * config.embeddingDim, (i + 1) * config.embeddingDim)))), [7, config.embeddingDim]);
    noGrad(() => {
      const a = mil.forward(cells);
      const b = mil.forward(permuted);
      const la = a.logits.data<'float32'>();
      const lb = b.logits.data<'float32'>();
      la.forEach((v, i) => assert.ok(Math.abs(v - lb[i]) < 1e-5, 'the order of the cells changed the call'));
      // By hand: x_k = relu(P((h_k − μ)/σ) + p); logits = W [Σ a_k x_k, mean_k x_k] + c.
      const state = mil.stateDict();
      const x = mil.project.forward(cells.sub(state.get('input_mean')!).div(state.get('input_scale')!)).relu();
      const xs = x.data<'float32'>();
      const w = a.weights.data<'float32'>();
      const h = config.hiddenDim;
      const pooled = new Float64Array(2 * h);
      for (let k = 0; k < 7; k++) for (let j = 0; j < h; j++) {
        pooled[j] += w[k] * xs[k * h + j];
        pooled[h + j] += xs[k * h + j] / 7;
      }
      const W = mil.classifier.weight.data<'float32'>();
      const c = state.get('classifier.bias')!.data<'float32'>();
      for (let i = 0; i < config.numClasses; i++) {
        let v = c[i];
        for (let j = 0; j < 2 * h; j++) v += W[i * 2 * h + j] * pooled[j];
        assert.ok(Math.abs(v - la[i]) < 1e-4, `class ${i}: ${v} by hand, ${la[i]} from the model`);
      }
      const one = mil.forward(fromTypedArray(flat.slice(0, config.embeddingDim), [1, config.embeddingDim]));
      assert.ok(Math.abs(one.weights.data<'float32'>()[0] - 1) < 1e-6);
    });
  } finally {
    mil.dispose();
  }
  assert.throws(() => new GatedAttentionMil({ ...config, pooling: 'max' as never }), /pooling must be "attention" or "attention-mean", got "max"/);
});
