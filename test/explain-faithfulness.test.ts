import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blurImages, deletionCurve, insertionCurve, randomMaps, trapezoidAuc } from '../src/explain/index.js';
import { createModel } from '../src/model/index.js';
import { noGrad, randn, setNumThreads, tidy } from '../src/torch/index.js';

setNumThreads(2);

test('trapezoidAuc integrates sampled curves', () => {
  assert.equal(trapezoidAuc([0, 0.5, 1], [1, 1, 1]), 1);
  assert.equal(trapezoidAuc([0, 1], [1, 0]), 0.5);
  assert.throws(() => trapezoidAuc([0], [1]), /two or more points/);
});

test('deletion starts at the original probability and insertion ends there; both have steps + 1 points', () => {
  const model = createModel('aplnet-s', 3).eval();
  try {
    tidy(() => {
      const images = randn([3, 3, 64, 64]);
      const maps = randomMaps(3, 64, 64, { seed: 1 });
      const original = noGrad(() => model.forward(images).logits.softmax(1).select(1, 2).toArray());
      const deletion = deletionCurve(model, images, maps, [2, 2, 2], { steps: 4, batchSize: 2 });
      const insertion = insertionCurve(model, images, maps, [2, 2, 2], { steps: 4 });
      assert.deepEqual(deletion.fractions, [0, 0.25, 0.5, 0.75, 1]);
      deletion.probabilities.forEach((curve, i) => {
        assert.equal(curve.length, 5);
        assert.ok(Math.abs(curve[0] - original[i]) < 1e-5);
        assert.ok(Math.abs(insertion.probabilities[i][4] - original[i]) < 1e-5);
        // Fully deleted = fully not-yet-inserted: both are the blurred image.
        assert.ok(Math.abs(curve[4] - insertion.probabilities[i][0]) < 1e-5);
      });
      assert.ok(deletion.meanAuc > 0 && deletion.meanAuc < 1);
      assert.throws(() => deletionCurve(model, images, randomMaps(3, 32, 32), [0, 0, 0]), /do not match images/);
    });
  } finally {
    model.dispose();
  }
});

test('the blurred image keeps the mean colour and removes detail', () => {
  tidy(() => {
    const images = randn([1, 3, 48, 48]);
    const blurred = blurImages(images);
    assert.deepEqual(blurred.shape, images.shape);
    assert.ok(blurred.sub(blurred.mean()).abs().mean().item() < images.sub(images.mean()).abs().mean().item() / 3);
  });
});
