// Mixup and CutMix on a prepared batch (src/train/mix-batch.ts): the right pairs, targets that sum
// to one, λ that matches what the image shows, and draws that depend only on (seed, epoch, batch).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mixBatch, mixRandom, sampleSymmetricBeta, type MixSpec } from '../src/train/mix-batch.js';
import { randomFor } from '../src/data/prng.js';

const N = 4, C = 3, H = 6, W = 5;
const shape = [N, C, H, W] as const;
const perImage = C * H * W;
/** Image i is the constant i + 1 in every channel, so the source of every mixed value is readable. */
const x = Float32Array.from({ length: N * perImage }, (_, k) => Math.floor(k / perImage) + 1);
const y = Int32Array.from([0, 1, 2, 3]);
const mixup: MixSpec = { mixup: 0.4, cutmix: 0, probability: 1 };
const cutmix: MixSpec = { mixup: 0, cutmix: 1, probability: 1 };

test('mixup blends image i with image N-1-i by λ and the targets are (yA, yB) = (y, reversed y)', () => {
  const mixed = mixBatch(x, shape, y, mixup, randomFor(3))!;
  assert.equal(mixed.kind, 'mixup');
  assert.ok(mixed.lambda > 0 && mixed.lambda < 1);
  assert.deepEqual([...mixed.yA], [0, 1, 2, 3]);
  assert.deepEqual([...mixed.yB], [3, 2, 1, 0]);
  for (let i = 0; i < N; i++) {
    const expected = mixed.lambda * (i + 1) + (1 - mixed.lambda) * (N - i);
    for (let k = 0; k < perImage; k++) assert.ok(Math.abs(mixed.x[i * perImage + k] - expected) < 1e-5);
  }
  // The soft target λ·onehot(yA) + (1 − λ)·onehot(yB) sums to one for every image.
  for (let i = 0; i < N; i++) {
    const target = new Float64Array(4);
    target[mixed.yA[i]] += mixed.lambda;
    target[mixed.yB[i]] += 1 - mixed.lambda;
    assert.ok(Math.abs(target.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
  assert.equal(x[0], 1, 'the input batch is not modified');
});

test('cutmix pastes one box from the paired image and λ is the share of the image left', () => {
  for (let seed = 0; seed < 20; seed++) {
    const mixed = mixBatch(x, shape, y, cutmix, randomFor(seed))!;
    assert.equal(mixed.kind, 'cutmix');
    for (let i = 0; i < N; i++) {
      let own = 0;
      for (let k = 0; k < perImage; k++) {
        const value: number = mixed.x[i * perImage + k];
        assert.ok(value === i + 1 || value === N - i, `pixel of image ${i} comes from itself or its pair, got ${value}`);
        if (value === i + 1) own += 1;
      }
      // Image 1 and 2 pair with each other, 0 with 3: the share of own pixels is λ (the same box in every channel).
      if (i + 1 !== N - i) assert.ok(Math.abs(own / perImage - mixed.lambda) < 1e-9, `seed ${seed}: λ ${mixed.lambda} vs own share ${own / perImage}`);
    }
    assert.ok(mixed.lambda >= 0 && mixed.lambda <= 1);
  }
});

test('no mixing when off, for a batch of one, or when the batch is not drawn', () => {
  assert.equal(mixBatch(x, shape, y, { mixup: 0, cutmix: 0, probability: 1 }, randomFor(1)), null);
  assert.equal(mixBatch(x, shape, y, { mixup: 0.4, cutmix: 0, probability: 0 }, randomFor(1)), null);
  assert.equal(mixBatch(x.subarray(0, perImage), [1, C, H, W], y.subarray(0, 1), mixup, randomFor(1)), null);
  let mixedCount = 0;
  for (let batch = 0; batch < 400; batch++) if (mixBatch(x, shape, y, { ...mixup, probability: 0.25 }, mixRandom(0, 0, batch))) mixedCount += 1;
  assert.ok(mixedCount > 60 && mixedCount < 140, `about a quarter of 400 batches mixed, got ${mixedCount}`);
  assert.throws(() => mixBatch(x, [N, C, H, W + 1], y, mixup, randomFor(1)), /values/);
});

test('the mixing draw depends only on (seed, epoch, batch), and both kinds occur when both are on', () => {
  const a = mixBatch(x, shape, y, mixup, mixRandom(5, 2, 7))!;
  const b = mixBatch(x, shape, y, mixup, mixRandom(5, 2, 7))!;
  assert.equal(a.lambda, b.lambda);
  assert.notEqual(mixBatch(x, shape, y, mixup, mixRandom(5, 2, 8))!.lambda, a.lambda);
  const kinds = new Set(Array.from({ length: 40 }, (_, batch) => mixBatch(x, shape, y, { mixup: 0.4, cutmix: 1, probability: 1 }, mixRandom(0, 0, batch))!.kind));
  assert.deepEqual([...kinds].sort(), ['cutmix', 'mixup']);
});

test('Beta(α, α) draws lie in [0, 1] with mean 1/2, and small α pushes them to the ends', () => {
  const random = randomFor(11);
  for (const alpha of [0.2, 1, 4]) {
    const draws = Array.from({ length: 4000 }, () => sampleSymmetricBeta(random, alpha));
    assert.ok(draws.every((d) => d >= 0 && d <= 1));
    const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
    assert.ok(Math.abs(mean - 0.5) < 0.03, `α ${alpha}: mean ${mean}`);
    // Var of Beta(α, α) = 1 / (4(2α + 1)).
    const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / draws.length;
    const expected = 1 / (4 * (2 * alpha + 1));
    assert.ok(Math.abs(variance - expected) < 0.15 * expected, `α ${alpha}: variance ${variance} vs ${expected}`);
  }
});
