import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../io/index.js';
import { shortHash } from './content-hash.js';
import type { ConversionNote, DecodedImage } from './decode/image-decode.js';

const magic = 0x50_4c_50_41; // "APLP" little-endian
const headerBytes = 16;
const noteBits: ConversionNote[] = ['grayscale', 'alpha-flattened', '16-bit', 'cmyk', 'exif-rotated', 'not-srgb'];

/**
 * Decoded, resized uint8 RGB pixels on disk, one file per (content hash, preprocessing, stain
 * normalization). Keys come from content, not paths, so a changed file simply misses and a moved
 * one still hits. Entries are written atomically, so a killed run never leaves a short file.
 */
export class PixelCache {
  constructor(readonly dir: string) {}

  static key(contentHash: string, preprocessingId: string, stainId: string): string {
    return `${contentHash.slice(0, 32)}-${shortHash(`${preprocessingId}|${stainId}`)}`;
  }

  private pathFor(key: string): string {
    return join(this.dir, 'pixels', key.slice(0, 2), `${key}.rgb`);
  }

  /** undefined on a miss or on an entry that does not parse (treated as a miss and rewritten). */
  async read(key: string): Promise<DecodedImage | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.pathFor(key));
    } catch {
      return undefined;
    }
    if (bytes.length < headerBytes || bytes.readUInt32LE(0) !== magic) return undefined;
    const notes = bytes.readUInt8(5);
    const width = bytes.readUInt32LE(8);
    const height = bytes.readUInt32LE(12);
    if (bytes.length !== headerBytes + width * height * 3) return undefined;
    return {
      pixels: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, width * height * 3),
      width,
      height,
      notes: noteBits.filter((_, bit) => notes & (1 << bit)),
    };
  }

  async write(key: string, image: DecodedImage): Promise<void> {
    const path = this.pathFor(key);
    await mkdir(join(this.dir, 'pixels', key.slice(0, 2)), { recursive: true });
    const bytes = Buffer.alloc(headerBytes + image.pixels.length);
    bytes.writeUInt32LE(magic, 0);
    bytes.writeUInt8(1, 4);
    bytes.writeUInt8(image.notes.reduce((bits, note) => bits | (1 << noteBits.indexOf(note)), 0), 5);
    bytes.writeUInt32LE(image.width, 8);
    bytes.writeUInt32LE(image.height, 12);
    bytes.set(image.pixels, headerBytes);
    // No fsync: read() checks the header and length and treats a damaged entry as a miss, and an
    // fsync per image made filling the cache several times slower.
    await writeFileAtomicAsync(path, bytes, { fsync: false });
  }
}
