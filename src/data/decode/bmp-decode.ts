import { DataError } from '../errors.js';

/** libvips as bundled with sharp has no BMP loader, yet microscope software often exports BMP. */
export function isBmp(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x42 && bytes[1] === 0x4d;
}

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
}

export function readBmpHeader(bytes: Buffer, file: string): BmpHeader & { topDown: boolean; dataOffset: number; compression: number; headerSize: number } {
  if (bytes.length < 54) throw new DataError(file, 'truncated', 'BMP shorter than its header');
  const headerSize = bytes.readUInt32LE(14);
  const width = bytes.readInt32LE(18);
  const rawHeight = bytes.readInt32LE(22);
  return {
    width,
    height: Math.abs(rawHeight),
    topDown: rawHeight < 0,
    bitsPerPixel: bytes.readUInt16LE(28),
    compression: bytes.readUInt32LE(30),
    dataOffset: bytes.readUInt32LE(10),
    headerSize,
  };
}

/**
 * Decodes uncompressed BMP (8-bit palette, 24-bit, 32-bit) into HWC RGB. Compressed variants
 * (RLE, embedded JPEG/PNG) are rare in practice and reported as unsupported.
 */
export function decodeBmp(bytes: Buffer, file: string): { pixels: Buffer; width: number; height: number } {
  const header = readBmpHeader(bytes, file);
  const { width, height, bitsPerPixel, compression, dataOffset, topDown } = header;
  if (width <= 0 || height <= 0) throw new DataError(file, 'corrupt', `BMP header gives size ${width}×${height}`);
  const bitfields = compression === 3 && bitsPerPixel === 32;
  if (!(compression === 0 || bitfields) || ![8, 24, 32].includes(bitsPerPixel)) {
    throw new DataError(file, 'not-an-image', `unsupported BMP variant (compression ${compression}, ${bitsPerPixel} bits per pixel); convert it to PNG`);
  }
  const rowBytes = Math.ceil((width * bitsPerPixel) / 32) * 4;
  if (dataOffset + rowBytes * height > bytes.length) throw new DataError(file, 'truncated', 'BMP pixel data ends early');
  const palette = bitsPerPixel === 8 ? 14 + header.headerSize : 0;
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * rowBytes;
    for (let x = 0; x < width; x++) {
      let at: number;
      if (bitsPerPixel === 8) at = palette + 4 * bytes[row + x];
      else at = row + x * (bitsPerPixel / 8);
      const to = 3 * (y * width + x);
      pixels[to] = bytes[at + 2];
      pixels[to + 1] = bytes[at + 1];
      pixels[to + 2] = bytes[at];
    }
  }
  return { pixels, width, height };
}
