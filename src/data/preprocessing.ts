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
  /**
   * With center-crop: keep the middle 1/zoom of the shorter side before resizing, so the cell a
   * smear crop is centred on fills more of the input at the same cost (1, the default, keeps the
   * whole square; 1.5 keeps the middle two thirds). Absent reads as 1 (runs written before it).
   */
  zoom?: number;
}

/** The largest zoom accepted: beyond it the middle of a crop is smaller than most cells. */
export const MAX_ZOOM = 4;

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
  const zoom = preprocessing.zoom ?? 1;
  if (typeof zoom !== 'number' || !Number.isFinite(zoom) || zoom < 1 || zoom > MAX_ZOOM) {
    throw new DataError('preprocessing', 'bad-config', `zoom ${String(preprocessing.zoom)} must be a number in [1, ${MAX_ZOOM}] (1 keeps the whole crop)`);
  }
  if (zoom !== 1 && preprocessing.resize !== 'center-crop') {
    throw new DataError('preprocessing', 'bad-config', `zoom ${zoom} needs resize center-crop (letterbox keeps the whole image by design)`);
  }
  return preprocessing;
}

/** A canonical string of the preprocessing: part of every cache key, so changing it never reuses stale pixels. */
export function preprocessingId(preprocessing: Preprocessing): string {
  const background = (preprocessing.background ?? defaultBackground).join('.');
  const zoom = preprocessing.zoom ?? 1;
  return `${preprocessing.size}-${preprocessing.resize}${preprocessing.resize === 'letterbox' ? `-${background}` : ''}${zoom === 1 ? '' : `-zoom${zoom}`}`;
}

/**
 * The square kept from a width×height image (after EXIF rotation) before it is resized: the whole
 * image for zoom 1 (sharp's cover/contain do the rest), else the middle 1/zoom of the shorter side.
 */
export function zoomRegion(width: number, height: number, zoom: number): { left: number; top: number; width: number; height: number } | null {
  if (zoom === 1) return null;
  const side = Math.max(1, Math.round(Math.min(width, height) / zoom));
  return { left: Math.floor((width - side) / 2), top: Math.floor((height - side) / 2), width: side, height: side };
}

/** The part of an image the model reads, in words: with a zoom only the middle, so the cell must be centred. */
export function describeFraming(preprocessing: Preprocessing): string {
  const to = `scaled to ${preprocessing.size}×${preprocessing.size} px`;
  if (preprocessing.resize === 'letterbox') return `the whole image, padded to a square, ${to}`;
  const zoom = preprocessing.zoom ?? 1;
  if (zoom === 1) return `the centre square of each image (its shorter side), ${to}`;
  return `the middle ${Math.round(100 / zoom)}% of each image's shorter side (zoom ${zoom}), ${to}: the cell must be centred in the image`;
}
