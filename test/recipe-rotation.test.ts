// Rotation by any angle (src/data/augmentation.ts, geometric-transforms.ts): the size is kept, the
// corners a rotation uncovers are reflected image or the smear's background colour, never black, and
// turning it on leaves every other random draw of the augmentation as it was.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { before, test } from 'node:test';
import { augmentImage, smearAugmentation, smearAugmentationWith } from '../src/data/augmentation.js';
import type { RgbImage } from '../src/data/decode/image-decode.js';
import { decodeAndPreprocess } from '../src/data/decode/image-decode.js';
import { affineTransform, borderMedianColor } from '../src/data/geometric-transforms.js';
import { randomFor } from '../src/data/prng.js';
import { realImages } from './data-fixtures.js';

let smear: RgbImage;
before(async () => {
  const [path] = await realImages('monocyte', 1);
  smear = await decodeAndPreprocess(await readFile(path), path, { size: 48, resize: 'center-crop' });
});

/** A light background (230, 220, 235) with a dark square "cell" in the middle. */
function synthetic(side = 20): RgbImage {
  const pixels = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inCell = Math.abs(x - side / 2) < side / 5 && Math.abs(y - side / 2) < side / 5;
      pixels.set(inCell ? [90, 40, 120] : [230, 220, 235], 3 * (y * side + x));
    }
  }
  return { width: side, height: side, pixels };
}
const pixel = (image: RgbImage, x: number, y: number): number[] => Array.from(image.pixels.subarray(3 * (y * image.width + x), 3 * (y * image.width + x) + 3));

test('the border median colour is the background around a centred cell', () => {
  assert.deepEqual(borderMedianColor(synthetic()), [230, 220, 235]);
});

test('a 45° turn keeps the size and fills the uncovered corners with the background colour (background fill)', () => {
  const image = synthetic();
  const turned = affineTransform(image, { rotationDeg: 45, scale: 1, shiftX: 0, shiftY: 0 }, borderMedianColor(image));
  assert.equal(turned.width, 20);
  assert.equal(turned.height, 20);
  for (const [x, y] of [[0, 0], [19, 0], [0, 19], [19, 19]]) assert.deepEqual(pixel(turned, x, y), [230, 220, 235]);
  assert.deepEqual(pixel(turned, 10, 10), [90, 40, 120], 'the cell stays in the middle');
});

test('reflect fill never shows black in the corners of a real smear turned by any angle', () => {
  const random = randomFor(4);
  for (let k = 0; k < 6; k++) {
    const angle = 360 * random();
    const turned = affineTransform(smear, { rotationDeg: angle, scale: 1, shiftX: 0, shiftY: 0 });
    assert.equal(turned.pixels.length, smear.pixels.length);
    for (const [x, y] of [[0, 0], [47, 0], [0, 47], [47, 47]]) {
      assert.ok(Math.max(...pixel(turned, x, y)) > 60, `corner (${x}, ${y}) at ${angle.toFixed(0)}° is not black: ${pixel(turned, x, y)}`);
    }
  }
});

test('a turn by 0° with no scale or shift is the identity', () => {
  assert.deepEqual(affineTransform(smear, { rotationDeg: 0, scale: 1, shiftX: 0, shiftY: 0 }).pixels, smear.pixels);
});

test('augmentation with rotation "any" keeps the size, draws every angle, and leaves the colour draws unchanged', () => {
  const any = smearAugmentationWith({ stainJitter: 1, rotation: 'any', fill: 'background' });
  const out = augmentImage(smear, any, randomFor(9, 0, 1));
  assert.equal(out.width, smear.width);
  assert.equal(out.height, smear.height);
  // Same seed, geometry off in both: the colour part is identical whichever rotation is configured.
  const still = { ...smearAugmentation, flips: false, rotate90: false, affine: { ...smearAugmentation.affine, probability: 0 }, blur: { probability: 0, maxSigma: 0 } };
  const plain = augmentImage(smear, { ...still, rotation: 'quarter' }, randomFor(2));
  const again = augmentImage(smear, { ...still, rotation: 'quarter', fill: 'background' }, randomFor(2));
  assert.deepEqual(again.pixels, plain.pixels);
  // The default recipe (stain jitter 1, quarter turns, reflect) is exactly smearAugmentation.
  assert.deepEqual(smearAugmentationWith({ stainJitter: 1, rotation: 'quarter', fill: 'reflect' }), smearAugmentation);
  assert.deepEqual(smearAugmentationWith({ stainJitter: 3, rotation: 'quarter', fill: 'reflect' }).hed, { scale: 0.15000000000000002, shift: 0.06 });
});
