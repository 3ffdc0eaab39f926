import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import sharp from 'sharp';
import { decodeAndPreprocess } from '../src/data/decode/image-decode.js';
import { DataError } from '../src/data/errors.js';
import type { Preprocessing } from '../src/data/preprocessing.js';
import { damagedJpeg, realImages } from './data-fixtures.js';

// Defect 7: "corrupt: Unknown error" for truncations, and failOn 'truncated' letting damaged JPEGs through.
const preprocessing: Preprocessing = { size: 64, resize: 'center-crop' };
const limits = { maxInputPixels: 4_000_000, minSide: 32 };
const sample = 'examples/pbc-sample/basophil/BA_102039.jpg';

async function failure(bytes: Buffer, name: string): Promise<DataError> {
  try {
    await decodeAndPreprocess(bytes, name, preprocessing, limits);
  } catch (error) {
    assert.ok(error instanceof DataError, `${name} threw ${String(error)}`);
    assert.doesNotMatch(error.message, /unknown error/i, name);
    assert.ok(error.message.startsWith(`${name}: ${error.reason}: `), 'the message names the file and the reason');
    return error;
  }
  assert.fail(`${name} decoded`);
}

test('a JPEG cut short anywhere is truncated, and says to copy it again', async () => {
  const jpeg = await readFile(sample);
  for (const name of ['cut-at-0.1', 'cut-at-0.5', 'cut-at-0.9', 'cut-in-header', 'cut-before-end-marker']) {
    const error = await failure(damagedJpeg(jpeg)[name], name);
    assert.equal(error.reason, 'truncated', `${name}: ${error.message}`);
    assert.match(error.detail, /without the JPEG end-of-image marker.*cut short.*copy it again/);
  }
  for (let cut = 2; cut < jpeg.length; cut += 97) assert.equal((await failure(jpeg.subarray(0, cut), `cut-${cut}`)).reason, 'truncated');
});

test('a complete JPEG whose compressed data is damaged is corrupt (libjpeg only warns, so failOn must be strict)', async () => {
  const jpeg = await readFile(sample);
  for (const name of ['garbage', 'flipped', 'stray-marker']) {
    const damaged = damagedJpeg(jpeg)[name];
    await sharp(damaged, { failOn: 'truncated' }).raw().toBuffer(); // what the old setting accepted
    const error = await failure(damaged, name);
    assert.equal(error.reason, 'corrupt', `${name}: ${error.message}`);
    assert.match(error.detail, /JPEG data is damaged \(decoder: .*Corrupt JPEG data/);
  }
});

test('PNG and TIFF: cut short is truncated, damaged in place is corrupt', async () => {
  const png = await sharp(sample).png().toBuffer();
  assert.equal((await failure(png.subarray(0, png.length >> 1), 'half.png')).reason, 'truncated');
  assert.equal((await failure(png.subarray(0, 40), 'header.png')).reason, 'truncated');
  const crc = Buffer.from(png);
  const idat = png.indexOf('IDAT');
  crc[idat + 4 + png.readUInt32BE(idat - 4)] ^= 1; // the IDAT chunk's checksum
  assert.equal((await failure(crc, 'crc.png')).reason, 'corrupt');
  const tiff = await sharp(sample).tiff().toBuffer();
  for (const cut of [6, 200, tiff.length >> 1]) {
    const error = await failure(tiff.subarray(0, cut), `cut-${cut}.tif`);
    assert.equal(error.reason, 'truncated', error.message);
  }
});

test('not an image, an image format aplnet cannot read, and an empty file are told apart', async () => {
  const text = await failure(Buffer.from('patient list, do not share\n'), 'notes.jpg');
  assert.equal(text.reason, 'not-an-image');
  assert.match(text.detail, /begins with the text "patient list, do/);
  const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(200)]);
  const unsupported = await failure(heic, 'phone.jpg');
  assert.equal(unsupported.reason, 'unsupported-format');
  assert.match(unsupported.detail, /HEIF\/HEIC.*convert it/);
  const jp2 = Buffer.concat([Buffer.from([0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a]), Buffer.alloc(200)]);
  assert.equal((await failure(jp2, 'scan.jp2')).reason, 'unsupported-format');
  assert.equal((await failure(Buffer.alloc(0), 'empty.png')).reason, 'empty-file');
});

test('the strict JPEG setting rejects no real image: 320 pbc-8class images decode', async () => {
  const classes = ['basophil', 'eosinophil', 'erythroblast', 'ig', 'lymphocyte', 'monocyte', 'neutrophil', 'platelet'];
  for (const name of classes) {
    for (const path of await realImages(name, 40)) {
      const image = await decodeAndPreprocess(await readFile(path), path, preprocessing, limits);
      assert.equal(image.pixels.length, 64 * 64 * 3, path);
    }
  }
});
