// The OOD image generators: each makes what its name says, at the asked size, the same for a seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  BLANK_COLOURS,
  blankImage,
  decodeAndPreprocess,
  grayscaleImage,
  makeOodSets,
  noiseImage,
  OOD_SET_NAMES,
  photoCrop,
  restainedImage,
  washedOutImage,
  type RgbImage,
} from '../src/data/index.js';
import { realImages } from './data-fixtures.js';

const side = 48;

async function cell(): Promise<RgbImage> {
  const [path] = await realImages('neutrophil', 1);
  return decodeAndPreprocess(readFileSync(path), path, { size: side, resize: 'center-crop' }, { maxInputPixels: 64e6, minSide: 32 });
}

function channelStats(image: RgbImage): { mean: number[]; sd: number[] } {
  const n = image.pixels.length / 3;
  const mean = [0, 1, 2].map((c) => image.pixels.filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0) / n);
  const sd = [0, 1, 2].map((c) => Math.sqrt(image.pixels.filter((_, i) => i % 3 === c).reduce((a, b) => a + (b - mean[c]) ** 2, 0) / n));
  return { mean, sd };
}

test('a blank image is one colour everywhere', () => {
  const image = blankImage(side, [236, 214, 222]);
  assert.equal(image.pixels.length, side * side * 3);
  assert.deepEqual(channelStats(image), { mean: [236, 214, 222], sd: [0, 0, 0] });
});

test('noise is reproducible for a seed, different for another, and spread over the range', () => {
  for (const kind of ['uniform', 'gaussian', 'tinted'] as const) {
    assert.deepEqual(noiseImage(side, kind, 3).pixels, noiseImage(side, kind, 3).pixels);
    assert.notDeepEqual(noiseImage(side, kind, 3).pixels, noiseImage(side, kind, 4).pixels);
  }
  const uniform = channelStats(noiseImage(side, 'uniform', 1));
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(uniform.mean[c] - 127.5) < 8, `uniform noise mean ${uniform.mean[c]}`);
    assert.ok(Math.abs(uniform.sd[c] - 73.9) < 6, `uniform noise sd ${uniform.sd[c]}`); // 256 / √12
  }
});

test('grayscale has equal channels; washed-out keeps less contrast; restaining changes the colours, not the layout', async () => {
  const original = await cell();
  const gray = grayscaleImage(original);
  for (let i = 0; i < gray.pixels.length; i += 3) assert.ok(gray.pixels[i] === gray.pixels[i + 1] && gray.pixels[i] === gray.pixels[i + 2]);
  const before = channelStats(original);
  for (const mode of ['overexposed', 'faded'] as const) {
    const washed = channelStats(washedOutImage(original, mode, 0.3));
    for (let c = 0; c < 3; c++) assert.ok(Math.abs(washed.sd[c] - 0.3 * before.sd[c]) < 1, `${mode}: sd ${washed.sd[c]} is not 0.3 × ${before.sd[c]}`);
    if (mode === 'overexposed') for (let c = 0; c < 3; c++) assert.ok(washed.mean[c] > before.mean[c]);
  }
  assert.throws(() => washedOutImage(original, 'faded', 1.5), /contrast/);
  for (const style of ['h-and-e', 'ihc'] as const) {
    const restained = restainedImage(original, style);
    const after = channelStats(restained);
    assert.ok(after.mean.some((m, c) => Math.abs(m - before.mean[c]) > 10), `${style} barely changed the colours: ${after.mean} vs ${before.mean}`);
    // The nucleus stays where it was: the darkest pixels of the original are still darker than average.
    const luma = (image: RgbImage, i: number) => image.pixels[3 * i] + image.pixels[3 * i + 1] + image.pixels[3 * i + 2];
    const darkest = Array.from({ length: side * side }, (_, i) => i).sort((a, b) => luma(original, a) - luma(original, b)).slice(0, 100);
    const meanLuma = Array.from({ length: side * side }, (_, i) => luma(restained, i)).reduce((a, b) => a + b, 0) / (side * side);
    assert.ok(darkest.reduce((s, i) => s + luma(restained, i), 0) / darkest.length < meanLuma);
  }
});

test('a photo crop is side × side, reproducible, and varies with the seed', () => {
  const photo: RgbImage = { width: 64, height: 40, pixels: Uint8Array.from({ length: 64 * 40 * 3 }, (_, i) => (i * 37) % 251) };
  const crop = photoCrop(photo, side, 5);
  assert.equal(crop.width, side);
  assert.equal(crop.pixels.length, side * side * 3);
  assert.deepEqual(crop.pixels, photoCrop(photo, side, 5).pixels);
  assert.notDeepEqual(crop.pixels, photoCrop(photo, side, 6).pixels);
});

test('the OOD sets: every name, the asked counts, one derived image per cell, every constant colour among the blanks', async () => {
  const cells = [await cell(), await cell()];
  const photo = blankImage(64, [10, 200, 30]);
  const sets = makeOodSets(cells, [photo], side, { count: 8, seed: 2 });
  assert.deepEqual(Object.keys(sets), [...OOD_SET_NAMES]);
  for (const name of ['blank', 'noise', 'not_smear'] as const) assert.equal(sets[name].length, 8);
  for (const name of ['grayscale', 'washed', 'other_stain'] as const) assert.equal(sets[name].length, 2);
  BLANK_COLOURS.forEach((colour, i) => assert.deepEqual(channelStats(sets.blank[i]).mean, [...colour]));
  for (const images of Object.values(sets)) for (const image of images) assert.equal(image.pixels.length, side * side * 3);
  assert.throws(() => makeOodSets([], [photo], side), /cells/);
  assert.throws(() => makeOodSets(cells, [], side), /photograph/);
  assert.throws(() => makeOodSets(cells, [photo], side + 1), /must be/);
});
