import assert from 'node:assert/strict';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeAndPreprocess } from '../src/data/decode/image-decode.js';
import { DataError } from '../src/data/errors.js';
import { loadImageForInference, loadInferencePreprocessing, saveInferencePreprocessing } from '../src/data/inference.js';
import { writeFileAtomicAsync } from '../src/io/atomic-write.js';
import sharp from 'sharp';
import { preprocessingId, validatePreprocessing, type Preprocessing } from '../src/data/preprocessing.js';
import { makeTempDir, realImages, writeAwkwardImages } from './data-fixtures.js';

const preprocessing: Preprocessing = { size: 64, resize: 'center-crop' };
const limits = { maxInputPixels: 4_000_000, minSide: 32 };
let dir: string;
let files: Record<string, string>;

before(async () => {
  dir = await makeTempDir('decode');
  files = await writeAwkwardImages(dir, (await realImages('basophil', 1))[0]);
});
after(() => rm(dir, { recursive: true, force: true }));

async function decode(name: string, options: Preprocessing = preprocessing) {
  return decodeAndPreprocess(await readFile(files[name]), files[name], options, limits);
}

async function reasonOf(name: string): Promise<string> {
  try {
    await decode(name);
  } catch (error) {
    assert.ok(error instanceof DataError, `${name} threw ${String(error)}`);
    assert.equal(error.file, files[name]);
    assert.ok(error.message.startsWith(files[name]), 'the message names the file');
    return error.reason;
  }
  return 'decoded';
}

test('broken files are refused with the right reason, naming the file', async () => {
  assert.equal(await reasonOf('corrupt.jpg'), 'corrupt');
  assert.equal(await reasonOf('truncated.jpg'), 'truncated');
  assert.equal(await reasonOf('not-an-image.png'), 'not-an-image');
  assert.equal(await reasonOf('empty.jpg'), 'empty-file');
  assert.equal(await reasonOf('tiny.png'), 'too-small');
  assert.equal(await reasonOf('enormous.png'), 'too-large');
});

test('awkward but valid files decode to size×size RGB and say what was converted', async () => {
  const expected: Record<string, string | undefined> = {
    'grayscale.png': 'grayscale',
    'rgba.png': 'alpha-flattened',
    'sixteen-bit.png': '16-bit',
    'cmyk.jpg': 'cmyk',
    'exif-rotated.jpg': 'exif-rotated',
    'tiff.tif': undefined,
    'bitmap.bmp': undefined,
  };
  for (const [name, note] of Object.entries(expected)) {
    const image = await decode(name);
    assert.equal(image.width, 64, name);
    assert.equal(image.height, 64, name);
    assert.equal(image.pixels.length, 64 * 64 * 3, name);
    if (note) assert.ok(image.notes.includes(note as never), `${name} notes ${image.notes.join(',')}`);
  }
  const gray = (await decode('grayscale.png')).pixels;
  for (let i = 0; i < gray.length; i += 3) assert.ok(gray[i] === gray[i + 1] && gray[i + 1] === gray[i + 2]);
});

test('EXIF orientation is applied: a 200×100 image tagged "rotate 90" comes out portrait', async () => {
  const letterboxed = await decode('exif-rotated.jpg', { size: 64, resize: 'letterbox' });
  // Portrait content letterboxed into a square leaves white bars left and right, not top and bottom.
  const at = (x: number, y: number) => letterboxed.pixels[3 * (y * 64 + x)];
  assert.equal(at(0, 32), 255);
  assert.equal(at(63, 32), 255);
  assert.notEqual(at(32, 0), 255);
});

test('zoom keeps the middle 1/zoom of the shorter side: the cell fills the input', async () => {
  // 300×200: blue, with a red 100×100 square in the middle.
  const red = await sharp({ create: { width: 100, height: 100, channels: 3, background: { r: 255, g: 0, b: 0 } } }).png().toBuffer();
  const image = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .composite([{ input: red, left: 100, top: 50 }]).png().toBuffer();
  const redShare = (pixels: Uint8Array) => {
    let count = 0;
    for (let i = 0; i < pixels.length; i += 3) if (pixels[i] > 200 && pixels[i + 2] < 50) count += 1;
    return count / (pixels.length / 3);
  };
  const whole = await decodeAndPreprocess(image, 'rect.png', { size: 64, resize: 'center-crop' }, limits);
  const zoomed = await decodeAndPreprocess(image, 'rect.png', { size: 64, resize: 'center-crop', zoom: 2 }, limits);
  assert.ok(Math.abs(redShare(whole.pixels) - 0.25) < 0.05, `whole crop: a quarter red, got ${redShare(whole.pixels)}`);
  assert.ok(redShare(zoomed.pixels) > 0.95, `zoom 2: the red middle fills it, got ${redShare(zoomed.pixels)}`);
  assert.equal(zoomed.width, 64);
  // An EXIF-turned image is zoomed after turning (a 200×100 tagged "rotate 90" is 100 wide): same as turning it first.
  const turnedByTag = await decode('exif-rotated.jpg', { size: 64, resize: 'center-crop', zoom: 1.5 });
  const turnedFirst = await sharp(await sharp(await readFile(files['exif-rotated.jpg'])).rotate().toBuffer()).png().toBuffer();
  const reference = await decodeAndPreprocess(turnedFirst, 'turned.png', { size: 64, resize: 'center-crop', zoom: 1.5 }, limits);
  let total = 0;
  for (let i = 0; i < reference.pixels.length; i += 1) total += Math.abs(reference.pixels[i] - turnedByTag.pixels[i]);
  // Only resampling differs (libvips shrinks a JPEG while decoding it); a square taken from the wrong place would not.
  assert.ok(total / reference.pixels.length < 4, `turned by tag vs turned first differ by ${total / reference.pixels.length} per value`);
});

test('zoom is checked and is part of the cache key only when it changes anything', () => {
  assert.equal(preprocessingId({ size: 144, resize: 'center-crop' }), preprocessingId({ size: 144, resize: 'center-crop', zoom: 1 }));
  assert.notEqual(preprocessingId({ size: 144, resize: 'center-crop' }), preprocessingId({ size: 144, resize: 'center-crop', zoom: 1.5 }));
  for (const zoom of [0.5, 5, Number.NaN]) {
    assert.throws(() => validatePreprocessing({ size: 144, resize: 'center-crop', zoom }), /zoom .* must be a number in \[1, 4\]/);
  }
  assert.throws(() => validatePreprocessing({ size: 144, resize: 'letterbox', zoom: 2 }), /needs resize center-crop/);
});

test('loadImageForInference gives a normalised 1×3×S×S input with the saved preprocessing', async () => {
  const inference = {
    preprocessing,
    limits,
    stainNormalizer: { method: 'none' as const },
    channelStats: { mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.25, 0.25, 0.25] as [number, number, number] },
  };
  const path = join(dir, 'preprocessing.json');
  await saveInferencePreprocessing(path, inference);
  const reloaded = await loadInferencePreprocessing(path);
  assert.deepEqual(reloaded, inference);
  const fromPath = await loadImageForInference(files['tiff.tif'], reloaded);
  const fromBuffer = await loadImageForInference(await readFile(files['tiff.tif']), reloaded);
  assert.deepEqual(fromPath.shape, [1, 3, 64, 64]);
  assert.deepEqual(fromPath.x, fromBuffer.x);
  assert.ok(Math.abs(fromPath.x[0] - (fromPath.pixels[0] / 255 - 0.5) / 0.25) < 1e-5, 'channel-first, normalised');
  await assert.rejects(loadImageForInference(files['truncated.jpg'], reloaded), (error: DataError) => error.reason === 'truncated');
});

test('writeFileAtomic replaces content whole and leaves no temp files', async () => {
  const path = join(dir, 'atomic.json');
  await writeFileAtomicAsync(path, 'first');
  await writeFileAtomicAsync(path, new Uint8Array([115, 101, 99, 111, 110, 100]));
  assert.equal(await readFile(path, 'utf8'), 'second');
  await Promise.all(Array.from({ length: 8 }, (_, i) => writeFileAtomicAsync(path, `writer ${i}`)));
  assert.match(await readFile(path, 'utf8'), /^writer \d$/);
  assert.deepEqual((await readdir(dir)).filter((name) => name.endsWith('.tmp')), []);
});
