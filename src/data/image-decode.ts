import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { decodeBmp, isBmp, readBmpHeader } from './bmp-decode.js';
import { DataError, type DataErrorReason } from './errors.js';
import { defaultBackground, defaultDecodeLimits, type DecodeLimits, type Preprocessing } from './preprocessing.js';

/** Things about an input that were fixed on the way in, counted in the summary so a lab sees what its files are like. */
export type ConversionNote = 'grayscale' | 'alpha-flattened' | '16-bit' | 'cmyk' | 'exif-rotated' | 'not-srgb';

/** RGB pixels, row-major, interleaved (HWC), one byte per channel. */
export interface RgbImage {
  pixels: Uint8Array;
  width: number;
  height: number;
}

export interface DecodedImage extends RgbImage {
  notes: ConversionNote[];
}

/**
 * Decodes any supported image and brings it to size×size RGB uint8: EXIF orientation applied,
 * alpha flattened onto the background, grayscale/CMYK/16-bit converted to 8-bit sRGB.
 * Every failure becomes a DataError naming the file and the reason.
 */
export async function decodeAndPreprocess(
  input: Buffer,
  file: string,
  preprocessing: Preprocessing,
  limits: DecodeLimits = defaultDecodeLimits,
): Promise<DecodedImage> {
  let metadata: Metadata;
  let open: (options: SharpOptions) => Sharp;
  try {
    if (isBmp(input)) {
      const header = readBmpHeader(input, file);
      checkSize(file, header.width, Math.abs(header.height), limits);
      const bmp = decodeBmp(input, file);
      open = (options) => sharp(bmp.pixels, { ...options, raw: { width: bmp.width, height: bmp.height, channels: 3 } });
    } else {
      open = (options) => sharp(input, options);
    }
    metadata = await open({ limitInputPixels: false }).metadata();
  } catch (error) {
    throw toDataError(file, error, 'header');
  }
  const { width, height } = metadata;
  if (!width || !height) throw new DataError(file, 'corrupt', 'the header gives no image size');
  checkSize(file, width, height, limits);
  const notes = conversionNotes(metadata);
  const [r, g, b] = preprocessing.background ?? defaultBackground;
  const background = { r, g, b };
  try {
    const { data, info } = await open({ limitInputPixels: limits.maxInputPixels, failOn: 'truncated' })
      .rotate()
      .flatten({ background })
      .toColourspace('srgb')
      .resize(preprocessing.size, preprocessing.size, {
        fit: preprocessing.resize === 'letterbox' ? 'contain' : 'cover',
        position: 'centre',
        background,
      })
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new DataError(file, 'corrupt', `decoded to ${info.channels} channels instead of 3`);
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, notes };
  } catch (error) {
    throw toDataError(file, error, 'pixels');
  }
}

function checkSize(file: string, width: number, height: number, limits: DecodeLimits): void {
  if (width * height > limits.maxInputPixels) {
    throw new DataError(
      file,
      'too-large',
      `${width}×${height} = ${width * height} pixels exceeds the limit of ${limits.maxInputPixels} (a guard against decompression bombs); crop or downscale it, or raise maxInputPixels`,
    );
  }
  if (Math.min(width, height) < limits.minSide) {
    throw new DataError(file, 'too-small', `${width}×${height} is below the minimum side of ${limits.minSide} pixels`);
  }
}

function conversionNotes(metadata: Metadata): ConversionNote[] {
  const notes: ConversionNote[] = [];
  if (metadata.space === 'b-w' || metadata.space === 'grey16' || metadata.channels === 1 || (metadata.channels === 2 && metadata.hasAlpha)) {
    notes.push('grayscale');
  }
  if (metadata.hasAlpha) notes.push('alpha-flattened');
  if (metadata.depth && metadata.depth !== 'uchar' && metadata.depth !== 'char') notes.push('16-bit');
  if (metadata.space === 'cmyk') notes.push('cmyk');
  else if (metadata.space && !['srgb', 'rgb', 'b-w', 'rgb16', 'grey16'].includes(metadata.space)) notes.push('not-srgb');
  if (metadata.orientation && metadata.orientation > 1) notes.push('exif-rotated');
  return notes;
}

/** Maps libvips' messages onto stable reasons, keeping its words as the detail. */
function toDataError(file: string, error: unknown, stage: 'header' | 'pixels'): DataError {
  if (error instanceof DataError) return error;
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const lower = detail.toLowerCase();
  let reason: DataErrorReason = 'corrupt';
  const endsEarly = lower.includes('premature end') || lower.includes('truncated') || lower.includes('unexpected end') || lower.includes('read error');
  if (lower.includes('unsupported image format')) reason = 'not-an-image';
  // Once the header has been read whole, running out of data is truncation, even when libvips
  // words it as "corrupt header: premature end" (it does so depending on when it notices).
  else if (stage === 'pixels' && endsEarly) reason = 'truncated';
  else if (lower.includes('corrupt header') || lower.includes('empty')) reason = 'corrupt';
  else if (endsEarly) reason = 'truncated';
  else if (lower.includes('pixel limit')) reason = 'too-large';
  return new DataError(file, reason, detail);
}
