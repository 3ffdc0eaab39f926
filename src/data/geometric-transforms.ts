import type { RgbImage } from './decode/image-decode.js';

/**
 * Geometric transforms on HWC uint8 RGB. Smear cells have no canonical orientation, so flips and
 * 90° turns are label-preserving and lossless; the small affine jitter adds the in-between angles
 * and scale changes of different microscopes.
 */

export function flipHorizontal(image: RgbImage): RgbImage {
  const { width, height, pixels } = image;
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = 3 * (y * width + x);
      const to = 3 * (y * width + (width - 1 - x));
      out[to] = pixels[from];
      out[to + 1] = pixels[from + 1];
      out[to + 2] = pixels[from + 2];
    }
  }
  return { width, height, pixels: out };
}

export function flipVertical(image: RgbImage): RgbImage {
  const { width, height, pixels } = image;
  const out = new Uint8Array(pixels.length);
  const row = 3 * width;
  for (let y = 0; y < height; y++) out.set(pixels.subarray(y * row, (y + 1) * row), (height - 1 - y) * row);
  return { width, height, pixels: out };
}

/** Rotates clockwise by quarterTurns × 90°; width and height swap on odd turns. */
export function rotateQuarterTurns(image: RgbImage, quarterTurns: number): RgbImage {
  const turns = ((quarterTurns % 4) + 4) % 4;
  if (turns === 0) return image;
  const { width, height, pixels } = image;
  const outWidth = turns === 2 ? width : height;
  const outHeight = turns === 2 ? height : width;
  const out = new Uint8Array(pixels.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let toX: number;
      let toY: number;
      if (turns === 1) {
        toX = height - 1 - y;
        toY = x;
      } else if (turns === 2) {
        toX = width - 1 - x;
        toY = height - 1 - y;
      } else {
        toX = y;
        toY = width - 1 - x;
      }
      const from = 3 * (y * width + x);
      const to = 3 * (toY * outWidth + toX);
      out[to] = pixels[from];
      out[to + 1] = pixels[from + 1];
      out[to + 2] = pixels[from + 2];
    }
  }
  return { width: outWidth, height: outHeight, pixels: out };
}

export interface AffineJitter {
  rotationDeg: number;
  scale: number;
  /** Shifts as fractions of width and height. */
  shiftX: number;
  shiftY: number;
}

function reflect(coordinate: number, size: number): number {
  if (size === 1) return 0;
  const period = 2 * (size - 1);
  let c = Math.abs(coordinate) % period;
  if (c > size - 1) c = period - c;
  return c;
}

/**
 * Rotation + scale + shift about the centre with bilinear sampling. Borders are reflected, not
 * filled black, because a black wedge is an artefact a model could learn from.
 */
export function affineTransform(image: RgbImage, jitter: AffineJitter): RgbImage {
  const { width, height, pixels } = image;
  const out = new Uint8Array(pixels.length);
  const angle = (jitter.rotationDeg * Math.PI) / 180;
  // Inverse map: for each output pixel, where it comes from in the input.
  const cos = Math.cos(angle) / jitter.scale;
  const sin = Math.sin(angle) / jitter.scale;
  const centreX = (width - 1) / 2;
  const centreY = (height - 1) / 2;
  const shiftX = jitter.shiftX * width;
  const shiftY = jitter.shiftY * height;
  for (let y = 0; y < height; y++) {
    const dy = y - centreY - shiftY;
    for (let x = 0; x < width; x++) {
      const dx = x - centreX - shiftX;
      const sourceX = reflect(cos * dx + sin * dy + centreX, width);
      const sourceY = reflect(-sin * dx + cos * dy + centreY, height);
      const x0 = Math.floor(sourceX);
      const y0 = Math.floor(sourceY);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const fx = sourceX - x0;
      const fy = sourceY - y0;
      const to = 3 * (y * width + x);
      for (let c = 0; c < 3; c++) {
        const top = pixels[3 * (y0 * width + x0) + c] * (1 - fx) + pixels[3 * (y0 * width + x1) + c] * fx;
        const bottom = pixels[3 * (y1 * width + x0) + c] * (1 - fx) + pixels[3 * (y1 * width + x1) + c] * fx;
        out[to + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width, height, pixels: out };
}
