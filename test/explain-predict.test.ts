import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPLAIN_METHODS, captureActivationsAndGradients, explain, predictAndExplain, zeroNonFiniteMaps } from '../src/explain/index.js';
import { createModel } from '../src/model/index.js';
import { dispose, full, manualSeed, memoryInfo, noGrad, randn, setNumThreads, tensor, tidy } from '../src/torch/index.js';

setNumThreads(2);

test('predictAndExplain gives every method, from one pass, exactly the map explain gives for the predicted class', () => {
  manualSeed(11);
  const model = createModel('aplnet-s-ap', 4); // every method: CBAM gates and the pooling head
  try {
    tidy(() => {
      const images = randn([3, 3, 96, 96]);
      const all = predictAndExplain(model, images, EXPLAIN_METHODS);
      const logitsAlone = predictAndExplain(model, images, []);
      assert.deepEqual(Array.from(all.logits), Array.from(logitsAlone.logits));
      assert.deepEqual(Object.keys(logitsAlone.maps), []);
      for (const method of EXPLAIN_METHODS) {
        assert.deepEqual(all.maps[method]!.toArray(), explain(model, images, { method }).toArray(), method);
        assert.deepEqual(all.blanked[method], [false, false, false]);
        // Any subset gives the same map as the full set.
        assert.deepEqual(predictAndExplain(model, images, [method]).maps[method]!.toArray(), all.maps[method]!.toArray(), `${method} alone`);
      }
    });
  } finally {
    model.dispose();
  }
});

test('predictAndExplain leaves only its maps alive and the model as it was', () => {
  const model = createModel('aplnet-s', 4).train();
  try {
    const images = randn([2, 3, 64, 64]);
    const before = memoryInfo().liveTensors;
    const { maps } = predictAndExplain(model, images, ['attention', 'gradcam++', 'attention-grad']);
    assert.equal(memoryInfo().liveTensors - before, 3);
    dispose(maps);
    images.dispose();
    assert.equal(model.training, true);
    assert.ok(model.parameters().every((p) => p.grad === null && p.requiresGrad));
  } finally {
    model.dispose();
  }
});

test('a non-finite image keeps its NaN logits and gets all-zero, flagged maps; the others are untouched', () => {
  manualSeed(5);
  const model = createModel('aplnet-s-ap', 3);
  try {
    tidy(() => {
      const good = randn([2, 3, 64, 64]);
      const images = good.clone();
      noGrad(() => images.select(0, 1).copy_(full([3, 64, 64], NaN)));
      const result = predictAndExplain(model, images, EXPLAIN_METHODS);
      const clean = predictAndExplain(model, good, EXPLAIN_METHODS);
      const row = (logits: Float32Array, i: number) => Array.from(logits.subarray(i * 3, i * 3 + 3));
      assert.ok(row(result.logits, 1).every(Number.isNaN), 'the NaN row must reach the caller as NaN');
      assert.deepEqual(row(result.logits, 0), row(clean.logits, 0));
      const pixels = 64 * 64;
      for (const method of EXPLAIN_METHODS) {
        const values = result.maps[method]!.toArray();
        assert.ok(values.every(Number.isFinite), `${method} map holds NaN`);
        assert.ok(values.slice(pixels).every((v) => v === 0), `${method}: the NaN image's map is not all zeros`);
        assert.deepEqual(values.slice(0, pixels), clean.maps[method]!.toArray().slice(0, pixels));
        assert.deepEqual(result.blanked[method], [false, true]);
      }
    });
  } finally {
    model.dispose();
  }
});

test('a NaN weight gives NaN logits for every image and blank maps, never a throw or a NaN map', () => {
  const model = createModel('aplnet-s', 3);
  try {
    const head = model.namedParameters().find(([name]) => name === 'head.weight')![1];
    noGrad(() => head.copy_(full(head.shape, NaN)));
    tidy(() => {
      const result = predictAndExplain(model, randn([2, 3, 64, 64]), ['attention-grad', 'gradcam']);
      assert.ok(Array.from(result.logits).every(Number.isNaN));
      assert.deepEqual(result.blanked, { 'attention-grad': [true, true], gradcam: [true, true] });
      assert.ok(result.maps.gradcam!.toArray().every((v) => v === 0));
    });
  } finally {
    model.dispose();
  }
});

test('zeroNonFiniteMaps zeroes only the images with NaN or Inf', () => {
  tidy(() => {
    const maps = tensor([[[[0.5, 1]]], [[[Infinity, 0.2]]], [[[0, NaN]]]]);
    const { maps: clean, blanked } = zeroNonFiniteMaps(maps);
    assert.deepEqual(blanked, [false, true, true]);
    assert.deepEqual(clean.toArray(), [0.5, 1, 0, 0, 0, 0]);
  });
});

test('the capture keeps only what was asked for, and a forward without gradients differentiates nothing', () => {
  const model = createModel('aplnet-s', 4);
  try {
    tidy(() => {
      const images = randn([2, 3, 64, 64]);
      const plain = captureActivationsAndGradients(model, images);
      // The classes are resolved (the evidence map needs them) but no score is differentiated.
      assert.deepEqual(plain.targets, Array.from(plain.logits.argmax(1).toArray()));
      assert.ok(model.parameters().every((p) => p.grad === null));
      assert.deepEqual(plain.activations, {});
      assert.equal(plain.attentionGradients.length, 0);
      assert.ok(plain.attention.length > 0);
      const pass = captureActivationsAndGradients(model, images, { target: [1, 3], layers: ['stage1'], attentionGradients: true });
      assert.deepEqual(pass.targets, [1, 3]);
      assert.deepEqual(pass.activations.stage1.grad.shape, pass.activations.stage1.value.shape);
      pass.attention.forEach((map, i) => assert.deepEqual(pass.attentionGradients[i].shape, map.shape));
      assert.deepEqual(pass.logits.toArray(), plain.logits.toArray());
    });
  } finally {
    model.dispose();
  }
});

test('predictAndExplain refuses a method name that explain does not know, naming the choices', () => {
  const model = createModel('aplnet-s', 4);
  try {
    tidy(() => {
      assert.throws(() => predictAndExplain(model, randn([1, 3, 64, 64]), ['heatmap' as never]), /unknown method "heatmap"; choose from attention, attention-grad, gradcam, gradcam\+\+/);
    });
  } finally {
    model.dispose();
  }
});
