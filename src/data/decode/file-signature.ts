/**
 * What a file's bytes say about it, independent of the decoder: its format by magic number, and
 * whether its structure reaches the end the format requires. libvips words the same damage
 * differently by format and by when it notices (or says "Unknown error"), so reasons shown to a
 * user are decided from the bytes, and libvips' words are kept only as a detail.
 */

/** Formats aplnet decodes (through sharp, or its own BMP reader). */
export type ReadableFormat = 'jpeg' | 'png' | 'tiff' | 'bmp' | 'gif' | 'webp';

interface Signature {
  format: string;
  /** Name for messages. */
  name: string;
  readable: boolean;
  matches(bytes: Uint8Array): boolean;
}

const ascii = (bytes: Uint8Array, at: number, text: string) => [...text].every((char, i) => bytes[at + i] === char.charCodeAt(0));
const starts = (bytes: Uint8Array, values: number[]) => values.every((value, i) => bytes[i] === value);

const signatures: Signature[] = [
  { format: 'jpeg', name: 'JPEG', readable: true, matches: (b) => starts(b, [0xff, 0xd8]) },
  { format: 'png', name: 'PNG', readable: true, matches: (b) => starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { format: 'tiff', name: 'TIFF', readable: true, matches: (b) => starts(b, [0x49, 0x49, 0x2a, 0x00]) || starts(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { format: 'bmp', name: 'BMP', readable: true, matches: (b) => ascii(b, 0, 'BM') },
  { format: 'gif', name: 'GIF', readable: true, matches: (b) => ascii(b, 0, 'GIF8') },
  { format: 'webp', name: 'WebP', readable: true, matches: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP') },
  { format: 'heif', name: 'HEIF/HEIC (iPhone photo)', readable: false, matches: (b) => ascii(b, 4, 'ftyp') && /^(hei|hev|mif|msf)/.test(String.fromCharCode(...b.subarray(8, 12))) },
  { format: 'jp2', name: 'JPEG 2000', readable: false, matches: (b) => starts(b, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || starts(b, [0xff, 0x4f, 0xff, 0x51]) },
  { format: 'jxl', name: 'JPEG XL', readable: false, matches: (b) => starts(b, [0xff, 0x0a]) || starts(b, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20]) },
  { format: 'dicom', name: 'DICOM', readable: false, matches: (b) => ascii(b, 128, 'DICM') },
  { format: 'psd', name: 'Photoshop (PSD)', readable: false, matches: (b) => ascii(b, 0, '8BPS') },
  { format: 'pdf', name: 'PDF', readable: false, matches: (b) => ascii(b, 0, '%PDF') },
];

export interface SniffedFormat {
  format: string;
  name: string;
  readable: boolean;
}

export function sniffFormat(bytes: Uint8Array): SniffedFormat | undefined {
  const found = signatures.find((signature) => signature.matches(bytes));
  return found && { format: found.format, name: found.name, readable: found.readable };
}

/** Where the bytes run out before the format's structure ends, in words; undefined when the structure is whole (or unknown). */
export function truncation(format: string, bytes: Uint8Array): string | undefined {
  if (format === 'jpeg') return jpegTruncation(bytes);
  if (format === 'png') return pngTruncation(bytes);
  if (format === 'tiff') return tiffTruncation(bytes);
  return undefined;
}

function jpegTruncation(bytes: Uint8Array): string | undefined {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end--; // some writers pad after the end marker
  if (end >= 2 && bytes[end - 2] === 0xff && bytes[end - 1] === 0xd9) return undefined;
  return `it ends after ${bytes.length} bytes without the JPEG end-of-image marker`;
}

function pngTruncation(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    if (ascii(bytes, offset + 4, 'IEND')) return undefined;
    const next = offset + 12 + length;
    if (next > bytes.length) return `its ${String.fromCharCode(...bytes.subarray(offset + 4, offset + 8))} chunk needs ${next} bytes but the file has ${bytes.length}`;
    offset = next;
  }
  return `it ends after ${bytes.length} bytes without the PNG end chunk (IEND)`;
}

const tiffTags = { stripOffsets: 273, stripByteCounts: 279, tileOffsets: 324, tileByteCounts: 325 };

function tiffTruncation(bytes: Uint8Array): string | undefined {
  const short = (what: string, needed: number) => `${what} needs ${needed} bytes but the file has ${bytes.length}`;
  if (bytes.length < 8) return short('the TIFF header', 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = bytes[0] === 0x49;
  const u16 = (at: number) => view.getUint16(at, little);
  const u32 = (at: number) => view.getUint32(at, little);
  const ifd = u32(4);
  if (ifd + 2 > bytes.length) return short('its first directory', ifd + 2);
  const count = u16(ifd);
  if (ifd + 2 + 12 * count + 4 > bytes.length) return short('its first directory', ifd + 2 + 12 * count + 4);
  const values = new Map<number, number[]>();
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + 12 * i;
    const [tag, type, n] = [u16(entry), u16(entry + 2), u32(entry + 4)];
    if (!Object.values(tiffTags).includes(tag) || (type !== 3 && type !== 4)) continue;
    const size = type === 3 ? 2 : 4;
    const at = n * size <= 4 ? entry + 8 : u32(entry + 8);
    if (at + n * size > bytes.length) return short(`its tag ${tag} list`, at + n * size);
    values.set(tag, Array.from({ length: n }, (_, k) => (type === 3 ? u16(at + 2 * k) : u32(at + 4 * k))));
  }
  for (const [offsetsTag, countsTag] of [[tiffTags.stripOffsets, tiffTags.stripByteCounts], [tiffTags.tileOffsets, tiffTags.tileByteCounts]]) {
    const offsets = values.get(offsetsTag) ?? [];
    const counts = values.get(countsTag) ?? [];
    const end = Math.max(0, ...offsets.map((offset, k) => offset + (counts[k] ?? 0)));
    if (end > bytes.length) return short('its image data', end);
  }
  return undefined;
}
