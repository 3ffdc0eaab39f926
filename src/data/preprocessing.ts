import { DataError } from './errors.js';

/**
 * How a decoded image becomes a size×size RGB image. 'center-crop' scales the shorter side to
 * `size` and crops the middle (cells are centred in smear crops); 'letterbox' fits the whole
 * image and pads with `background`, for datasets where the cell may touch the border.
 */
export interface Preprocessing {
  size: number;
  resize: 'center-crop' | 'letterbox';
  /** Padding colour for letterbox; smear backgrounds are light, so white by default. */
  background?: [number, number, number];
}

/** Guards against unusable inputs and decompression bombs. */
export interface DecodeLimits {
  /** Images with more pixels than this are refused before decoding (sharp's limitInputPixels). */
  maxInputPixels: number;
  /** Images whose shorter side is below this carry too little detail to classify. */
  minSide: number;
}

export const defaultDecodeLimits: DecodeLimits = { maxInputPixels: 64_000_000, minSide: 32 };

export const defaultBackground: [number, number, number] = [255, 255, 255];

export function validatePreprocessing(preprocessing: Preprocessing): Preprocessing {
  if (!Number.isInteger(preprocessing.size) || preprocessing.size < 8 || preprocessing.size > 4096) {
    throw new DataError('preprocessing', 'bad-config', `size ${preprocessing.size} must be an integer in [8, 4096]`);
  }
  if (preprocessing.resize !== 'center-crop' && preprocessing.resize !== 'letterbox') {
    throw new DataError('preprocessing', 'bad-config', `resize "${String(preprocessing.resize)}" must be center-crop or letterbox`);
  }
  return preprocessing;
}

/** A canonical string of the preprocessing: part of every cache key, so changing it never reuses stale pixels. */
export function preprocessingId(preprocessing: Preprocessing): string {
  const background = (preprocessing.background ?? defaultBackground).join('.');
  return `${preprocessing.size}-${preprocessing.resize}${preprocessing.resize === 'letterbox' ? `-${background}` : ''}`;
}
