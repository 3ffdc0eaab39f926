// Stochastic depth (src/model/drop-path.ts): identity in evaluation, the expected value kept in
// training, rates rising linearly through the blocks, and a config.json without the field loading as 0.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AplNet, createModel, parseModelConfig, presetConfig } from '../src/model/index.js';
import { dropPath, dropPathRates } from '../src/model/drop-path.js';
import { full, manualSeed, noGrad, randn, tidy } from '../src/torch/index.js';

test('drop-path is the identity in evaluation and at rate 0', () => {
  tidy(() => {
    const x = randn([4, 3, 5, 5]);
    assert.equal(dropPath(x, 0.3, false), x);
    assert.equal(dropPath(x, 0, true), x);
  });
});

test('in training each sample is dropped whole or kept scaled by 1/(1 − p), so the mean is preserved', () => {
  manualSeed(1);
  tidy(() => {
    const p = 0.25;
    const flat = dropPath(full([4000, 2, 3, 3], 2), p, true).toArray();
    const out = Array.from({ length: 4000 }, (_, i) => flat.slice(18 * i, 18 * (i + 1)));
    let kept = 0;
    for (const row of out) {
      const first = row[0];
      assert.ok(row.every((v) => v === first), 'one decision per sample');
      assert.ok(first === 0 || Math.abs(first - 2 / (1 - p)) < 1e-6, `dropped (0) or scaled (${2 / (1 - p)}), got ${first}`);
      if (first !== 0) kept += 1;
    }
    const mean = out.reduce((sum, row) => sum + row[0], 0) / out.length;
    assert.ok(Math.abs(mean - 2) < 0.1, `expected value 2 preserved, got ${mean}`);
    assert.ok(Math.abs(kept / out.length - (1 - p)) < 0.03);
  });
});

test('rates rise linearly from 0 at the first block to the chosen rate at the last', () => {
  assert.deepEqual(dropPathRates(4, 0.3).map((r) => Number(r.toFixed(10))), [0, 0.1, 0.2, 0.3]);
  assert.deepEqual(dropPathRates(1, 0.2), [0.2]);
  manualSeed(0);
  const config = { ...presetConfig('aplnet-s', 3), inputSize: 32, dropPath: 0.3 };
  const model = new AplNet(config);
  try {
    const rates = model.stages.items.flatMap((stage) => stage.items.map((block) => (block as unknown as { dropPathRate: number }).dropPathRate));
    assert.deepEqual(rates.map((r) => Number(r.toFixed(10))), [0, 0.1, 0.2, 0.3]);
  } finally {
    model.dispose();
  }
});

test('a model with drop-path gives, in evaluation, exactly the logits of the same weights without it', () => {
  manualSeed(0);
  const plain = createModel({ ...presetConfig('aplnet-s-ap', 3), inputSize: 32 }).eval();
  const dropping = createModel({ ...presetConfig('aplnet-s-ap', 3), inputSize: 32, dropPath: 0.4 }).eval();
  try {
    dropping.loadStateDict(plain.stateDict());
    noGrad(() => tidy(() => {
      const x = randn([2, 3, 32, 32]);
      assert.deepEqual(dropping.forward(x).logits.toArray(), plain.forward(x).logits.toArray());
      dropping.train();
      manualSeed(3);
      const trained = dropping.forward(x).logits.toArray();
      manualSeed(3);
      assert.deepEqual(dropping.forward(x).logits.toArray(), trained, 'training mode draws from the seeded generator');
    }));
  } finally {
    plain.dispose();
    dropping.dispose();
  }
});

test('config.json written before drop-path existed loads with no drop-path; a bad rate is refused', () => {
  const { dropPath: _absent, ...old } = { ...presetConfig('aplnet-s-ap', 8) };
  const parsed = parseModelConfig(JSON.parse(JSON.stringify(old)), 'old config.json');
  assert.equal(parsed.dropPath, undefined);
  assert.equal(parseModelConfig({ ...old, dropPath: 0.1 }).dropPath, 0.1);
  assert.throws(() => parseModelConfig({ ...old, dropPath: 1 }, 'run/config.json'), /run\/config\.json: model config field "dropPath" is 1/);
  assert.throws(() => parseModelConfig({ ...old, dropPath: 'high' }), /dropPath/);
});
