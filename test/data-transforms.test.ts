import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { augmentImage, smearAugmentation } from '../src/data/augmentation.js';
import { ChannelStatsAccumulator, writeNormalizedChw } from '../src/data/channel-stats.js';
import { jitterHed } from '../src/data/color-transforms.js';
import { affineTransform, flipHorizontal, flipVertical, rotateQuarterTurns } from '../src/data/geometric-transforms.js';
import { gaussianBlur } from '../src/data/gaussian-blur.js';
import type { RgbImage } from '../src/data/decode/image-decode.js';
import { decodeAndPreprocess } from '../src/data/decode/image-decode.js';
import { percentile } from '../src/data/percentile.js';
import { randomFor } from '../src/data/prng.js';
import { applyStainNormalizer, fitStainNormalizer, parseStainNormalizer, stainNormalizerId } from '../src/data/stain-normalizer.js';
import { symmetricEigen } from '../src/data/symmetric-eigen.js';
import { realImages } from './data-fixtures.js';

let smears: RgbImage[];

before(async () => {
  const paths = [...(await realImages('neutrophil', 3)), ...(await realImages('eosinophil', 3))];
  smears = await Promise.all(paths.map(async (path) => decodeAndPreprocess(await readFile(path), path, { size: 64, resize: 'center-crop' })));
});

const meanAbsDifference = (a: Uint8Array, b: Uint8Array) => a.reduce((sum, value, i) => sum + Math.abs(value - b[i]), 0) / a.length;

test('augmentation is a pure function of the seed', () => {
  const image = smears[0];
  const first = augmentImage(image, smearAugmentation, randomFor(7, 3, 11));
  const again = augmentImage(image, smearAugmentation, randomFor(7, 3, 11));
  assert.deepEqual(again.pixels, first.pixels);
  const distinct = new Set(Array.from({ length: 8 }, (_, i) => Buffer.from(augmentImage(image, smearAugmentation, randomFor(7, 3, i)).pixels).toString('base64')));
  assert.ok(distinct.size >= 7, 'different seeds give different images');
  assert.deepEqual(image.pixels, smears[0].pixels, 'the input is not modified');
});

test('flips and quarter turns are lossless and compose as expected', () => {
  const image = smears[1];
  assert.deepEqual(flipHorizontal(flipHorizontal(image)).pixels, image.pixels);
  assert.deepEqual(flipVertical(flipVertical(image)).pixels, image.pixels);
  assert.deepEqual(rotateQuarterTurns(rotateQuarterTurns(image, 1), 3).pixels, image.pixels);
  assert.deepEqual(rotateQuarterTurns(image, 2).pixels, flipVertical(flipHorizontal(image)).pixels);
  const wide: RgbImage = { width: 3, height: 2, pixels: Uint8Array.from({ length: 18 }, (_, i) => i) };
  const turned = rotateQuarterTurns(wide, 1);
  assert.equal(turned.width, 2);
  assert.equal(turned.height, 3);
  // Clockwise: the bottom-left pixel (x 0, y 1) becomes the top-left.
  assert.deepEqual([...turned.pixels.subarray(0, 3)], [9, 10, 11]);
});

test('identity parameters leave pixels unchanged; real jitter changes them a little', () => {
  const image = smears[2];
  assert.deepEqual(affineTransform(image, { rotationDeg: 0, scale: 1, shiftX: 0, shiftY: 0 }).pixels, image.pixels);
  assert.deepEqual(jitterHed(image.pixels, [1, 1, 1], [0, 0, 0]), image.pixels);
  const jittered = jitterHed(image.pixels, [1.05, 0.95, 1], [0.02, -0.02, 0]);
  const change = meanAbsDifference(jittered, image.pixels);
  assert.ok(change > 0.5 && change < 20, `HED jitter changed pixels by ${change}`);
  const flat: RgbImage = { width: 16, height: 16, pixels: new Uint8Array(16 * 16 * 3).fill(120) };
  assert.deepEqual(gaussianBlur(flat, 1).pixels, flat.pixels, 'blurring a flat image changes nothing');
  assert.ok(meanAbsDifference(gaussianBlur(image, 1).pixels, image.pixels) > 0.5);
});

test('stain normalizers fit on training images, round-trip through JSON, and pull images toward the reference', () => {
  const training = smears.slice(0, 3).map((image) => image.pixels);
  for (const method of ['macenko', 'reinhard'] as const) {
    const normalizer = fitStainNormalizer(method, training);
    const reloaded = parseStainNormalizer(JSON.parse(JSON.stringify(normalizer)));
    assert.deepEqual(reloaded, normalizer);
    assert.equal(stainNormalizerId(reloaded), stainNormalizerId(normalizer));
    const other = smears[4].pixels;
    const normalized = applyStainNormalizer(reloaded, other);
    assert.equal(normalized.length, other.length);
    assert.deepEqual(applyStainNormalizer(normalizer, other), normalized, `${method} is deterministic`);
    assert.ok(meanAbsDifference(normalized, other) > 0.1, `${method} changes a differently stained image`);
  }
  const macenko = fitStainNormalizer('macenko', training);
  assert.equal(macenko.method, 'macenko');
  if (macenko.method === 'macenko') {
    const [haematoxylin, eosin] = macenko.stainVectors;
    assert.ok(haematoxylin[0] > eosin[0], 'haematoxylin absorbs more red than eosin');
    for (const vector of macenko.stainVectors) assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-9);
  }
  const reinhard = fitStainNormalizer('reinhard', [smears[0].pixels]);
  const selfNormalized = applyStainNormalizer(reinhard, smears[0].pixels);
  assert.ok(meanAbsDifference(selfNormalized, smears[0].pixels) < 1, 'Reinhard fitted on an image leaves it (nearly) as is');
});

test('channel statistics and normalisation match a direct computation', () => {
  const accumulator = new ChannelStatsAccumulator();
  for (const image of smears) accumulator.add(image.pixels);
  const stats = accumulator.result();
  for (let c = 0; c < 3; c++) {
    const values = smears.flatMap((image) => Array.from(image.pixels.filter((_, i) => i % 3 === c), (value) => value / 255));
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    const std = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
    assert.ok(Math.abs(stats.mean[c] - mean) < 1e-9);
    assert.ok(Math.abs(stats.std[c] - std) < 1e-9);
  }
  const out = new Float32Array(smears.length * 3 * 64 * 64);
  smears.forEach((image, n) => writeNormalizedChw(image.pixels, stats, out, n * 3 * 64 * 64));
  for (let c = 0; c < 3; c++) {
    let sum = 0;
    let squares = 0;
    let count = 0;
    for (let n = 0; n < smears.length; n++) {
      for (const value of out.subarray((n * 3 + c) * 4096, (n * 3 + c + 1) * 4096)) {
        sum += value;
        squares += value * value;
        count++;
      }
    }
    assert.ok(Math.abs(sum / count) < 1e-4, 'normalised mean is 0');
    assert.ok(Math.abs(squares / count - 1) < 1e-3, 'normalised variance is 1');
  }
});

test('numeric helpers: percentile and symmetric eigen-decomposition', () => {
  const values = Float64Array.from([5, 1, 4, 2, 3]);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile(values, 50), 3);
  assert.equal(percentile(values, 100), 5);
  assert.equal(percentile(values, 25), 2);
  assert.ok(Math.abs(percentile(Float64Array.from([0, 10]), 99) - 9.9) < 1e-12);
  const { values: eigenvalues, vectors } = symmetricEigen([
    [2, 1, 0],
    [1, 2, 0],
    [0, 0, 1],
  ]);
  assert.deepEqual(eigenvalues.map((v) => Math.round(v * 1e9) / 1e9), [3, 1, 1]);
  assert.ok(Math.abs(Math.abs(vectors[0][0]) - Math.SQRT1_2) < 1e-9 && Math.abs(vectors[0][0] - vectors[1][0]) < 1e-9);
});
