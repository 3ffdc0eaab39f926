import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPLAIN_METHODS, explain, normalizePerImage, randomMaps } from '../src/explain/index.js';
import { createModel } from '../src/model/index.js';
import { manualSeed, memoryInfo, randn, setNumThreads, tensor, tidy } from '../src/torch/index.js';

setNumThreads(2);

for (const method of EXPLAIN_METHODS) {
  test(`${method}: maps [N, 1, H, W] at the input size, each spanning [0, 1]`, () => {
    manualSeed(3);
    // Only the attention-pool presets have the pooling map; they keep the CBAM gates for the rest.
    // The evidence map of the predicted class always has a positive term (its margin is ≥ 0).
    const pooled = method === 'attention-pool' || method === 'evidence';
    const model = createModel(pooled ? 'aplnet-s-ap' : 'aplnet-s', 4);
    try {
      tidy(() => {
        const maps = explain(model, randn([3, 3, 144, 144]), { method, target: method === 'attention' || method === 'evidence' ? 'predicted' : 2 });
        assert.deepEqual(maps.shape, [3, 1, 144, 144]);
        const values = maps.toArray();
        const pixels = 144 * 144;
        for (let i = 0; i < 3; i++) {
          const image = values.slice(i * pixels, (i + 1) * pixels);
          assert.ok(image.every((v) => v >= 0 && v <= 1), 'values outside [0, 1]');
          assert.ok(Math.max(...image) > 0.999, 'per-image maximum is not 1');
        }
      });
    } finally {
      model.dispose();
    }
  });
}

test('Grad-CAM leaves parameter gradients, training mode and memory as they were', () => {
  const model = createModel('aplnet-s', 4).train();
  try {
    const images = randn([2, 3, 96, 96]);
    const before = memoryInfo().liveTensors;
    const maps = explain(model, images, { method: 'gradcam++', target: [0, 3], layer: 'stage2' });
    assert.equal(memoryInfo().liveTensors - before, 1);
    maps.dispose();
    images.dispose();
    assert.equal(model.training, true);
    assert.ok(model.parameters().every((p) => p.grad === null && p.requiresGrad));
  } finally {
    model.dispose();
  }
});

test('explain refuses unknown layers, targets and a model without attention, naming the choices', () => {
  const model = createModel('aplnet-s', 4);
  const plain = createModel({ ...model.config, attention: { ...model.config.attention, stages: [] } });
  const images = randn([1, 3, 64, 64]);
  try {
    assert.throws(() => explain(model, images, { method: 'gradcam', layer: 'stage7' }), /unknown layer "stage7"; choose from stem, stage0/);
    assert.throws(() => explain(model, images, { method: 'gradcam', target: 4 }), /target class 4/);
    assert.throws(() => explain(plain, images, { method: 'attention' }), /has none/);
  } finally {
    images.dispose();
    model.dispose();
    plain.dispose();
  }
});

test('normalizePerImage scales each image separately and sends a flat map to 0', () => {
  tidy(() => {
    const maps = tensor([[[[1, 3], [5, 9]]], [[[2, 2], [2, 2]]]]);
    assert.deepEqual(normalizePerImage(maps).toArray(), [0, 0.25, 0.5, 1, 0, 0, 0, 0]);
  });
});

test('random baseline maps are seeded, smooth and in [0, 1]', () => {
  tidy(() => {
    const a = randomMaps(2, 32, 32, { seed: 5 }).toArray();
    const b = randomMaps(2, 32, 32, { seed: 5 }).toArray();
    const c = randomMaps(2, 32, 32, { seed: 6 }).toArray();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.ok(a.every((v) => v >= 0 && v <= 1));
    assert.ok(Math.abs(a[0] - a[1]) < 0.3, 'neighbouring pixels should be close');
  });
});
