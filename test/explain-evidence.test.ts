// The 'evidence' map of an attention-pooling head: before its scaling, the positions' terms ARE the
// explained class's logit margin over the mean logit (so the map is the head's own arithmetic, not an
// estimate); it depends on the class asked for; a blank image gives a flat map; and a model without
// the head has none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain, predictAndExplain } from '../src/explain/index.js';
import { captureActivationsAndGradients } from '../src/explain/capture.js';
import { createModel } from '../src/model/index.js';
import { cat, full, manualSeed, noGrad, randn, setNumThreads, tidy, type Tensor } from '../src/torch/index.js';
import { coefficientsOfVariation, withTrainedLookingWeights } from './helpers/trained-looking.js';

setNumThreads(2);

test('the terms the evidence map draws sum, per image, to the class logit minus the mean logit', () => {
  manualSeed(21);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 5)).eval();
  try {
    tidy(() => {
      const images = randn([3, 3, 144, 144]);
      const pass = captureActivationsAndGradients(model, images, { target: 2 });
      const { pooling, poolingEvidence, logits } = pass;
      const terms = poolingEvidence!.select(1, 2).unsqueeze(1).sub(poolingEvidence!.mean([1], true)).mul(pooling!);
      const margin = logits.select(1, 2).sub(logits.mean([1]));
      const summed = terms.sum([1, 2, 3]);
      margin.toArray().forEach((m, i) => assert.ok(Math.abs(m - summed.toArray()[i]) < 1e-4, `image ${i}: margin ${m} vs Σ terms ${summed.toArray()[i]}`));
      // The drawn map is those terms' positive part, upsampled and divided by the maximum.
      const maps = explain(model, images, { method: 'evidence', target: 2 });
      assert.deepEqual(maps.shape, [3, 1, 144, 144]);
      const values = maps.toArray();
      assert.ok(values.every((v) => v >= 0 && v <= 1), 'values outside [0, 1]');
      const pixels = 144 * 144;
      const positive = terms.relu().sum([1, 2, 3]).toArray();
      for (let i = 0; i < 3; i++) {
        const max = Math.max(...values.slice(i * pixels, (i + 1) * pixels));
        assert.ok(positive[i] > 0 ? max > 0.999 : max === 0, `image ${i}: maximum ${max} with positive mass ${positive[i]}`);
      }
      // Where the head found nothing for the class (every term ≤ 0) the map is all 0, not a stretched pattern.
    });
  } finally {
    model.dispose();
  }
});

test('the evidence map differs by class, the attention-pool map does not', () => {
  manualSeed(22);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 4)).eval();
  try {
    tidy(() => {
      const images = randn([1, 3, 144, 144]);
      const a0 = explain(model, images, { method: 'attention-pool', target: 0 }).toArray();
      const a1 = explain(model, images, { method: 'attention-pool', target: 1 }).toArray();
      assert.deepEqual(a0, a1);
      const e0 = explain(model, images, { method: 'evidence', target: 0 }).toArray();
      const e1 = explain(model, images, { method: 'evidence', target: 1 }).toArray();
      const differ = e0.filter((v, i) => Math.abs(v - e1[i]) > 1e-3).length;
      assert.ok(differ > e0.length / 10, `class 0 and class 1 maps differ at ${differ} of ${e0.length} pixels only`);
    });
  } finally {
    model.dispose();
  }
});

test('a constant image gives a flat evidence map; predictAndExplain blanks a NaN image; an average-pool model has none', () => {
  manualSeed(23);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 6)).eval();
  const cbam = createModel('aplnet-s', 6);
  try {
    tidy(() => {
      const mean = [0.874, 0.749, 0.72];
      const std = [0.16, 0.186, 0.079];
      const blank = cat([128, 255].map((v) => cat(mean.map((m, c) => full([1, 1, 144, 144], (v / 255 - m) / std[c])), 1)), 0);
      const maps = explain(model, blank, { method: 'evidence' });
      const flat = coefficientsOfVariation(maps);
      // A flat map is either all one value (CV 0) or all 0 (no class argued for anywhere): NaN CV.
      flat.forEach((v, i) => assert.ok(Number.isNaN(v) || v < 0.05, `blank image ${i}: CV ${v}`));
      const images = randn([2, 3, 96, 96]);
      noGrad(() => images.select(0, 1).copy_(full([3, 96, 96], NaN)));
      const result = predictAndExplain(model, images, ['evidence']);
      assert.deepEqual(result.blanked.evidence, [false, true]);
      assert.throws(() => explain(cbam, images, { method: 'evidence' }), /no attention-pooling head/);
    });
  } finally {
    model.dispose();
    cbam.dispose();
  }
});

test('a map averaged over the TTA views keeps the documented scale: its maximum is 1, its shares of mass unchanged', async () => {
  const { passInMode } = await import('../src/run/tta-pass.js');
  const { divideByMaximum } = await import('../src/explain/index.js');
  manualSeed(24);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 4)).eval();
  try {
    tidy(() => {
      const x = randn([2, 3, 64, 64]);
      const pass = passInMode(model, x, ['evidence', 'attention-pool'], 'on');
      for (const method of ['evidence', 'attention-pool'] as const) {
        const maps = pass.maps[method]!;
        maps.amax([1, 2, 3]).toArray().forEach((max, i) => assert.ok(Math.abs(max - 1) < 1e-5, `${method} image ${i}: maximum ${max}`));
      }
      const halved = randn([1, 1, 8, 8]).abs().mul(0.5);
      const scaled = divideByMaximum(halved);
      const share = (t: Tensor) => t.slice(2, 0, 4).sum().div(t.sum()).item();
      assert.ok(Math.abs(share(scaled) - share(halved)) < 1e-6);
      assert.deepEqual(divideByMaximum(full([1, 1, 4, 4], 0)).toArray(), new Array(16).fill(0));
    });
  } finally {
    model.dispose();
  }
});
