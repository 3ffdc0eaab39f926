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
 * How pixels that come from outside the image are filled: 'reflect' mirrors the image at its border;
 * an [r, g, b] colour fills them (use borderMedianColor for the smear's own background). Never black:
 * a black wedge is an artefact a model could learn from.
 */
export type BorderFill = 'reflect' | readonly [number, number, number];

/**
 * The per-channel median of the outermost ring of pixels: in a smear crop centred on a cell, the
 * plasma/background colour around it, which is what a wider field of view would show in the corners.
 */
export function borderMedianColor(image: RgbImage): [number, number, number] {
  const { width, height, pixels } = image;
  const histograms = [new Uint32Array(256), new Uint32Array(256), new Uint32Array(256)];
  let count = 0;
  const add = (x: number, y: number): void => {
    const i = 3 * (y * width + x);
    for (let c = 0; c < 3; c++) histograms[c][pixels[i + c]] += 1;
    count += 1;
  };
  for (let x = 0; x < width; x++) {
    add(x, 0);
    if (height > 1) add(x, height - 1);
  }
  for (let y = 1; y < height - 1; y++) {
    add(0, y);
    if (width > 1) add(width - 1, y);
  }
  const median = (histogram: Uint32Array): number => {
    let seen = 0;
    for (let v = 0; v < 256; v++) {
      seen += histogram[v];
      if (2 * seen >= count) return v;
    }
    return 255;
  };
  return [median(histograms[0]), median(histograms[1]), median(histograms[2])];
}

/**
 * Rotation + scale + shift about the centre with bilinear sampling. Borders are reflected by
 * default (or filled with a colour, see BorderFill), not filled black.
 */
export function affineTransform(image: RgbImage, jitter: AffineJitter, fill: BorderFill = 'reflect'): RgbImage {
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
      const rawX = cos * dx + sin * dy + centreX;
      const rawY = -sin * dx + cos * dy + centreY;
      const to = 3 * (y * width + x);
      if (fill !== 'reflect' && (rawX < -0.5 || rawX > width - 0.5 || rawY < -0.5 || rawY > height - 0.5)) {
        out[to] = fill[0];
        out[to + 1] = fill[1];
        out[to + 2] = fill[2];
        continue;
      }
      // Within half a pixel of the border (colour fill) or anywhere (reflect): reflect back inside.
      const sourceX = reflect(rawX, width);
      const sourceY = reflect(rawY, height);
      const x0 = Math.floor(sourceX);
      const y0 = Math.floor(sourceY);
      const x1 = Math.min(x0 + 1, width - 1);
      const y1 = Math.min(y0 + 1, height - 1);
      const fx = sourceX - x0;
      const fy = sourceY - y0;
      for (let c = 0; c < 3; c++) {
        const top = pixels[3 * (y0 * width + x0) + c] * (1 - fx) + pixels[3 * (y0 * width + x1) + c] * fx;
        const bottom = pixels[3 * (y1 * width + x0) + c] * (1 - fx) + pixels[3 * (y1 * width + x1) + c] * fx;
        out[to + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { width, height, pixels: out };
}
