import { DataError } from '../errors.js';
import { sniffFormat, truncation } from './file-signature.js';

/** libvips' own words, when it gave any: sharp says "Unknown error" when libvips' message was lost. */
function libvipsWords(error: unknown): string | undefined {
  const text = (error instanceof Error ? error.message : String(error))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'Unknown error' && !line.startsWith('Warning treated as error'));
  return text.length > 0 ? [...new Set(text)].slice(0, 2).join('; ') : undefined;
}

function preview(bytes: Uint8Array): string {
  const head = bytes.subarray(0, 16);
  const printable = head.every((byte) => byte === 9 || byte === 10 || byte === 13 || (byte >= 32 && byte < 127));
  return printable ? `it begins with the text "${Buffer.from(head).toString('latin1').replace(/\s+/g, ' ')}"` : `it begins with bytes ${Buffer.from(head.subarray(0, 8)).toString('hex')}`;
}

/**
 * Turns a decoder failure into the reason a user can act on. The reason comes from the bytes
 * (format signature, a structure that stops short), so it does not depend on libvips' wording
 * or on the decoding stage; libvips' message is appended as the detail when it said something.
 */
export function diagnoseDecodeFailure(file: string, bytes: Uint8Array, error: unknown): DataError {
  if (error instanceof DataError) return error;
  const said = libvipsWords(error);
  const decoderSaid = said ? ` (decoder: ${said})` : '';
  if (bytes.length === 0) return new DataError(file, 'empty-file', 'is empty (0 bytes), as left by an interrupted copy or export; copy it again from the source');
  if (said?.toLowerCase().includes('pixel limit')) {
    return new DataError(file, 'too-large', `has more pixels than the limit, a guard against decompression bombs${decoderSaid}; crop or downscale it, or raise maxInputPixels`);
  }
  const format = sniffFormat(bytes);
  if (!format) return new DataError(file, 'not-an-image', `is not an image: ${preview(bytes)}, which matches no image format; is it a misnamed file?`);
  if (!format.readable) {
    return new DataError(file, 'unsupported-format', `is a ${format.name} file, which aplnet cannot read; convert it to PNG or TIFF (lossless) or JPEG`);
  }
  const cutShort = truncation(format.format, bytes);
  if (cutShort) {
    return new DataError(file, 'truncated', `${cutShort}: the ${format.name} file was cut short (an interrupted copy, download or export)${decoderSaid}; copy it again from the source`);
  }
  return new DataError(
    file,
    'corrupt',
    `the ${format.name} data is damaged${said ? ` (decoder: ${said})` : ' (the decoder gave no reason)'} although the file is complete; re-export or re-copy it from the source`,
  );
}
