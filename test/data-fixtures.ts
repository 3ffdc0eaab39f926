import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type OutputInfo, type Sharp } from 'sharp';

/** The real smear images the data tests borrow; read-only. */
export const pbcRoot = fileURLToPath(new URL('../../../shared/data/pbc-8class', import.meta.url));

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `aplnet-${prefix}-`));
}

/** `count` real images of a pbc-8class class, as paths. */
export async function realImages(className: string, count: number): Promise<string[]> {
  const labels = await readFile(join(pbcRoot, 'labels.csv'), 'utf8');
  return labels
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0])
    .filter((path) => path.startsWith(`${className}/`))
    .slice(0, count)
    .map((path) => join(pbcRoot, path));
}

/** A small smear-like RGB image: pink background, one purple disc whose place depends on `variant`. */
export async function syntheticSmear(width: number, height: number, variant: number): Promise<Sharp> {
  const cx = Math.round(width * (0.3 + 0.4 * ((variant * 37) % 10) / 10));
  const cy = Math.round(height * (0.3 + 0.4 * ((variant * 53) % 10) / 10));
  const radius = Math.round(Math.min(width, height) / 4);
  const svg = `<svg width="${width}" height="${height}"><rect width="100%" height="100%" fill="rgb(236,214,222)"/><circle cx="${cx}" cy="${cy}" r="${radius}" fill="rgb(${90 + variant % 40},60,150)"/></svg>`;
  return sharp(Buffer.from(svg));
}

/** Every kind of bad or awkward input the decoder must handle, written into `dir`; the keys name them. */
export async function writeAwkwardImages(dir: string, sampleJpeg: string): Promise<Record<string, string>> {
  await mkdir(dir, { recursive: true });
  const jpeg = await readFile(sampleJpeg);
  const files: Record<string, string> = {};
  const put = async (name: string, data: Buffer | Promise<Buffer>) => {
    files[name] = join(dir, name);
    await writeFile(files[name], await data);
  };
  await put('corrupt.jpg', damagedJpeg(jpeg).garbage);
  await put('truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  await put('not-an-image.png', Buffer.from('this is a text file named like an image\n'));
  await put('empty.jpg', Buffer.alloc(0));
  await put('grayscale.png', sharp(sampleJpeg).grayscale().extractChannel(0).png().toBuffer());
  await put('rgba.png', sharp(sampleJpeg).ensureAlpha(0.5).png().toBuffer());
  await put('sixteen-bit.png', sharp(sampleJpeg).toColourspace('rgb16').png().toBuffer());
  await put('cmyk.jpg', sharp(sampleJpeg).toColourspace('cmyk').jpeg().toBuffer());
  await put('exif-rotated.jpg', sharp(sampleJpeg).resize(200, 100, { fit: 'fill' }).jpeg().withMetadata({ orientation: 6 }).toBuffer());
  await put('tiny.png', (await syntheticSmear(8, 8, 1)).png().toBuffer());
  await put('enormous.png', (await syntheticSmear(3000, 3000, 2)).png({ compressionLevel: 9 }).toBuffer());
  await put('tiff.tif', sharp(sampleJpeg).tiff().toBuffer());
  await put('bitmap.bmp', bmpOf(await sharp(sampleJpeg).resize(64, 64).raw().toBuffer({ resolveWithObject: true })));
  return files;
}

/** Offset of the JPEG's start-of-scan marker: what follows is entropy-coded pixel data. */
export function startOfScan(jpeg: Buffer): number {
  for (let i = 2; i + 1 < jpeg.length; i++) if (jpeg[i] === 0xff && jpeg[i + 1] === 0xda) return i;
  throw new Error('no start-of-scan marker');
}

/**
 * A real JPEG damaged the ways files are damaged in labs: cut short at several points (an
 * interrupted copy), or complete but with its entropy-coded data overwritten (bad media).
 */
export function damagedJpeg(jpeg: Buffer): Record<string, Buffer> {
  const scan = startOfScan(jpeg);
  const middle = scan + Math.floor((jpeg.length - scan) / 2);
  const variants: Record<string, Buffer> = {};
  for (const fraction of [0.1, 0.5, 0.9]) variants[`cut-at-${fraction}`] = jpeg.subarray(0, Math.floor(jpeg.length * fraction));
  variants['cut-in-header'] = jpeg.subarray(0, scan + 10);
  variants['cut-before-end-marker'] = jpeg.subarray(0, jpeg.length - 2);
  const garbage = Buffer.from(jpeg);
  for (let k = 0; k < 500; k++) garbage[middle + k] = (k * 131) & 0xff;
  variants.garbage = garbage;
  const flipped = Buffer.from(jpeg);
  // Invert one byte in 97 through the scan, leaving existing markers whole. (Flips that happen to
  // form valid Huffman codes are undetectable by any decoder; this many are not.)
  for (let i = scan + 20; i < jpeg.length - 2; i += 97) if (flipped[i] !== 0xff && flipped[i - 1] !== 0xff) flipped[i] ^= 0xff;
  variants.flipped = flipped;
  const marker = Buffer.from(jpeg);
  marker[middle] = 0xff;
  marker[middle + 1] = 0xd5; // a restart marker where none belongs
  variants['stray-marker'] = marker;
  return variants;
}

/** sharp writes no BMP, so a minimal 24-bit BMP encoder stands in for the BMPs microscope software exports. */
function bmpOf({ data, info }: { data: Buffer; info: OutputInfo }): Buffer {
  const rowBytes = Math.ceil((info.width * 3) / 4) * 4;
  const header = Buffer.alloc(54);
  header.write('BM', 0);
  header.writeUInt32LE(54 + rowBytes * info.height, 2);
  header.writeUInt32LE(54, 10);
  header.writeUInt32LE(40, 14);
  header.writeInt32LE(info.width, 18);
  header.writeInt32LE(info.height, 22);
  header.writeUInt16LE(1, 26);
  header.writeUInt16LE(24, 28);
  const body = Buffer.alloc(rowBytes * info.height);
  for (let y = 0; y < info.height; y++) {
    for (let x = 0; x < info.width; x++) {
      const from = 3 * ((info.height - 1 - y) * info.width + x);
      const to = y * rowBytes + 3 * x;
      body[to] = data[from + 2];
      body[to + 1] = data[from + 1];
      body[to + 2] = data[from];
    }
  }
  return Buffer.concat([header, body]);
}

/** A class-folder dataset of real pbc images: `perClass` images of each named class. */
export async function writeRealClassFolders(root: string, classes: string[], perClass: number): Promise<void> {
  for (const name of classes) {
    await mkdir(join(root, name), { recursive: true });
    for (const path of await realImages(name, perClass)) await copyFile(path, join(root, name, path.split('/').pop()!));
  }
}
