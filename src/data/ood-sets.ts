// The out-of-distribution sets the tests and the benchmark measure the check on, each made by code
// from in-distribution cells (and photographs for "not a smear"), deterministic for a seed.
import type { RgbImage } from './decode/image-decode.js';
import { BLANK_COLOURS, blankImage, grayscaleImage, noiseImage, photoCrop, restainedImage, washedOutImage, type NoiseKind } from './ood-images.js';
import { randomFor } from './prng.js';

export const OOD_SET_NAMES = ['blank', 'noise', 'grayscale', 'washed', 'not_smear', 'other_stain'] as const;
export type OodSetName = (typeof OOD_SET_NAMES)[number];

export interface OodSetOptions {
  /** Images in each synthetic set (blank, noise, not_smear); the cell-derived sets have one per cell. */
  count?: number;
  seed?: number;
}

/** A blank field with faint sensor noise (sd 2 grey levels), as an empty slide photographs. */
function nearlyBlank(side: number, colour: readonly [number, number, number], seed: number): RgbImage {
  const image = blankImage(side, colour);
  const random = randomFor(seed, 0xb1a4c);
  for (let i = 0; i < image.pixels.length; i++) {
    const jitter = Math.round((random() + random() + random() - 1.5) * 2.8);
    image.pixels[i] = Math.max(0, Math.min(255, image.pixels[i] + jitter));
  }
  return image;
}

/**
 * Every OOD set: blank (pure and faintly noisy constant colours), noise (uniform, grey and
 * smear-tinted Gaussian), grayscale, washed (overexposed and faded, contrast 0.2–0.4) and
 * other_stain (H&E-like and IHC-like recolouring, alternating) versions of `cells`, and not_smear
 * (crops of `photos`). Cells and photos must be square images of side `side`, or any size for photos.
 */
export function makeOodSets(cells: readonly RgbImage[], photos: readonly RgbImage[], side: number, { count = 30, seed = 0 }: OodSetOptions = {}): Record<OodSetName, RgbImage[]> {
  if (cells.length === 0) throw new Error('makeOodSets: needs in-distribution cells to derive the grayscale, washed and other_stain sets from');
  if (photos.length === 0) throw new Error('makeOodSets: needs at least one photograph for the not_smear set');
  for (const cell of cells) if (cell.width !== side || cell.height !== side) throw new Error(`makeOodSets: every cell must be ${side}×${side}, got ${cell.width}×${cell.height}`);
  const noiseKinds: NoiseKind[] = ['uniform', 'gaussian', 'tinted'];
  const index = Array.from({ length: count }, (_, i) => i);
  return {
    blank: index.map((i) => (i < BLANK_COLOURS.length ? blankImage(side, BLANK_COLOURS[i]) : nearlyBlank(side, BLANK_COLOURS[i % BLANK_COLOURS.length], seed * 7919 + i))),
    noise: index.map((i) => noiseImage(side, noiseKinds[i % noiseKinds.length], seed * 7919 + i)),
    grayscale: cells.map(grayscaleImage),
    washed: cells.map((cell, i) => washedOutImage(cell, i % 2 === 0 ? 'overexposed' : 'faded', 0.2 + 0.2 * ((i >> 1) % 3) / 2)),
    not_smear: index.map((i) => photoCrop(photos[i % photos.length], side, seed * 7919 + i)),
    other_stain: cells.map((cell, i) => restainedImage(cell, i % 2 === 0 ? 'h-and-e' : 'ihc')),
  };
}
