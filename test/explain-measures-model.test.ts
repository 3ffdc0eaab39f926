// The measures that need a model: which methods it can produce, the re-initialised twin for the
// randomisation check, and flatness on images with nothing in them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applicableMethods, EXPLAIN_METHODS, FLATNESS_INPUTS, flatnessImages, mapFlatness, reinitializedModel } from '../src/explain/index.js';
import { createModel } from '../src/model/index.js';
import { rand } from '../src/torch/index.js';

const stats = { mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] };

test('applicableMethods keeps what the model can produce and names the reason for the rest', () => {
  const model = createModel('aplnet-s', 4);
  const plain = createModel({ ...model.config, attention: { ...model.config.attention, stages: [] } });
  try {
    assert.deepEqual(applicableMethods(model, ['attention', 'gradcam']).methods, ['attention', 'gradcam']);
    const { methods, notApplicable } = applicableMethods(plain);
    assert.ok(!methods.includes('attention') && methods.includes('gradcam'), methods.join(', '));
    assert.deepEqual(notApplicable.map((n) => n.method).includes('attention'), true);
    assert.match(notApplicable.find((n) => n.method === 'attention')!.reason, /has none/);
    assert.equal(methods.length + notApplicable.length, EXPLAIN_METHODS.length);
    // A model without the attention-pooling head has no pooling map (not a uniform one that would pass for it).
    assert.ok(!applicableMethods(model).methods.includes('attention-pool'));
    assert.match(applicableMethods(model).notApplicable.find((n) => n.method === 'attention-pool')!.reason, /no attention-pooling head/);
  } finally {
    model.dispose();
    plain.dispose();
  }
});

test('the re-initialised model has the architecture, other weights, and leaves the random generator as it was', () => {
  const model = createModel('aplnet-s', 4);
  const before = rand([4]).toArray();
  const twin = reinitializedModel(model, 3);
  try {
    const after = rand([4]).toArray();
    assert.notDeepEqual(after, before, 'the generator moved on as usual');
    assert.deepEqual([...twin.stateDict().keys()], [...model.stateDict().keys()]);
    const name = [...model.stateDict().keys()].find((k) => k.endsWith('weight'))!;
    const weight = (m: typeof model) => m.stateDict().get(name)!.toArray();
    assert.notDeepEqual(weight(twin), weight(model));
    assert.equal(twin.training, false);
    const again = reinitializedModel(model, 3);
    assert.deepEqual(weight(again), weight(twin), 'one seed, one twin');
    again.dispose();
  } finally {
    model.dispose();
    twin.dispose();
  }
});

test('flatness inputs are constant, white and noise; mapFlatness gives a finite CV for each', () => {
  const images = flatnessImages(8);
  assert.ok(images.constant.every((v) => v === 128) && images.blank.every((v) => v === 255));
  assert.ok(new Set(images.noise).size > 50);
  const model = createModel('aplnet-s', 4);
  try {
    const cv = mapFlatness(model, 'gradcam', stats);
    assert.deepEqual(Object.keys(cv), [...FLATNESS_INPUTS]);
    for (const name of FLATNESS_INPUTS) assert.ok(Number.isFinite(cv[name]) && cv[name] >= 0, `${name}: ${cv[name]}`);
  } finally {
    model.dispose();
  }
});
