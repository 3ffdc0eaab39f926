// Images that are not what a smear classifier was trained on, made by code so that tests and
// benchmarks can measure the out-of-distribution check without a second dataset: blank fields,
// noise, grey and washed-out versions of real cells, crops of photographs, and cells recoloured as
// if stained another way. Every function is pure: same input and seed, same pixels.
import type { RgbImage } from './decode/image-decode.js';
import { hedFromRgb, intensityFromOpticalDensity, opticalDensity, stainBasis } from './optical-density.js';
import { randomFor, type Random } from './prng.js';

const clampByte = (value: number): number => (value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value));

/** The constant colours a blank or empty field shows: white, black, mid-grey, and a few tints (one the pink of a smear's background). */
export const BLANK_COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 255, 255], [0, 0, 0], [128, 128, 128], [236, 214, 222], [200, 220, 255], [60, 40, 90],
];

export function blankImage(side: number, colour: readonly [number, number, number]): RgbImage {
  const pixels = new Uint8Array(side * side * 3);
  for (let i = 0; i < pixels.length; i += 3) pixels.set(colour, i);
  return { pixels, width: side, height: side };
}

export type NoiseKind = 'uniform' | 'gaussian' | 'tinted';

/** Sensor-like noise: uniform over [0, 255], Gaussian around mid-grey (sd 64), or Gaussian around a smear's pink (sd 40). */
export function noiseImage(side: number, kind: NoiseKind, seed: number): RgbImage {
  const random = randomFor(seed, 0x0015e);
  const centre = kind === 'tinted' ? [236, 214, 222] : [128, 128, 128];
  const sd = kind === 'tinted' ? 40 : 64;
  const pixels = new Uint8Array(side * side * 3);
  for (let i = 0; i < pixels.length; i++) {
    pixels[i] = kind === 'uniform' ? Math.floor(random() * 256) : clampByte(centre[i % 3] + sd * gaussian(random));
  }
  return { pixels, width: side, height: side };
}

function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** The image in grey (Rec. 601 luma in every channel), as a monochrome camera or a grey export shows it. */
export function grayscaleImage(image: RgbImage): RgbImage {
  const pixels = new Uint8Array(image.pixels.length);
  for (let i = 0; i < pixels.length; i += 3) {
    const luma = clampByte(0.299 * image.pixels[i] + 0.587 * image.pixels[i + 1] + 0.114 * image.pixels[i + 2]);
    pixels[i] = pixels[i + 1] = pixels[i + 2] = luma;
  }
  return { ...image, pixels };
}

/**
 * Overexposed or low-contrast: 'overexposed' keeps `contrast` of each pixel's distance from white
 * (a lamp turned up), 'faded' keeps `contrast` of its distance from the image's mean colour.
 */
export function washedOutImage(image: RgbImage, mode: 'overexposed' | 'faded', contrast: number): RgbImage {
  if (!(contrast > 0 && contrast < 1)) throw new Error(`washedOutImage: contrast must be in (0, 1), got ${contrast}`);
  const means = [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = c; i < image.pixels.length; i += 3) sum += image.pixels[i];
    return sum / (image.pixels.length / 3);
  });
  const pixels = new Uint8Array(image.pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const anchor = mode === 'overexposed' ? 255 : means[i % 3];
    pixels[i] = clampByte(anchor + (image.pixels[i] - anchor) * contrast);
  }
  return { ...image, pixels };
}

/**
 * Stain vectors of another stain, as unit OD-RGB rows: haematoxylin and eosin as measured on
 * H&E tissue (Macenko et al. 2009's reference), and DAB brown (Ruifrok & Johnston 2001).
 */
const OTHER_STAINS = {
  haematoxylin: [0.5626, 0.7201, 0.4062],
  eosin: [0.2159, 0.8012, 0.5581],
  dab: [0.27, 0.57, 0.78],
} as const;

export type StainStyle = 'h-and-e' | 'ihc';

/**
 * An approximation of the same cell under another stain: colour deconvolution into haematoxylin
 * and eosin amounts (Ruifrok & Johnston), re-rendered with another stain's colours. 'h-and-e'
 * draws them with H&E tissue vectors at H&E-like strengths (more eosin, denser haematoxylin);
 * 'ihc' draws haematoxylin as is and the second stain as DAB brown. Not a real second stain: real
 * staining also changes what is stained and how strongly.
 */
export function restainedImage(image: RgbImage, style: StainStyle): RgbImage {
  const [h, e] = style === 'h-and-e' ? [OTHER_STAINS.haematoxylin, OTHER_STAINS.eosin] : [stainBasis[0], OTHER_STAINS.dab];
  const [hGain, eGain] = style === 'h-and-e' ? [1.6, 2.5] : [1, 2];
  const pixels = new Uint8Array(image.pixels.length);
  for (let i = 0; i < pixels.length; i += 3) {
    const od = [opticalDensity(image.pixels[i]), opticalDensity(image.pixels[i + 1]), opticalDensity(image.pixels[i + 2])];
    const amount = [0, 1].map((s) => Math.max(0, od[0] * hedFromRgb[0][s] + od[1] * hedFromRgb[1][s] + od[2] * hedFromRgb[2][s]));
    for (let c = 0; c < 3; c++) pixels[i + c] = intensityFromOpticalDensity(hGain * amount[0] * h[c] + eGain * amount[1] * e[c]);
  }
  return { ...image, pixels };
}

/**
 * A random square crop of a photograph (a quarter to all of its shorter side, possibly mirrored),
 * resized bilinearly to side × side: many different "not a smear" inputs from a few photographs.
 */
export function photoCrop(photo: RgbImage, side: number, seed: number): RgbImage {
  const random = randomFor(seed, 0xc409);
  const shorter = Math.min(photo.width, photo.height);
  const box = Math.max(8, Math.round(shorter * (0.25 + 0.75 * random())));
  const left = Math.floor(random() * (photo.width - box + 1));
  const top = Math.floor(random() * (photo.height - box + 1));
  const mirror = random() < 0.5;
  const pixels = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    const sy = top + ((y + 0.5) * box) / side - 0.5;
    const y0 = Math.max(0, Math.min(photo.height - 1, Math.floor(sy)));
    const y1 = Math.min(photo.height - 1, y0 + 1);
    const fy = Math.max(0, Math.min(1, sy - y0));
    for (let x = 0; x < side; x++) {
      const sx = left + (((mirror ? side - 1 - x : x) + 0.5) * box) / side - 0.5;
      const x0 = Math.max(0, Math.min(photo.width - 1, Math.floor(sx)));
      const x1 = Math.min(photo.width - 1, x0 + 1);
      const fx = Math.max(0, Math.min(1, sx - x0));
      for (let c = 0; c < 3; c++) {
        const at = (yy: number, xx: number) => photo.pixels[(yy * photo.width + xx) * 3 + c];
        const top2 = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
        const bottom2 = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
        pixels[(y * side + x) * 3 + c] = clampByte(top2 * (1 - fy) + bottom2 * fy);
      }
    }
  }
  return { pixels, width: side, height: side };
}
