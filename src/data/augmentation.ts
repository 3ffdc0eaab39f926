import { adjustBrightnessContrast, adjustHsv, jitterHed } from './color-transforms.js';
import { affineTransform, borderMedianColor, flipHorizontal, flipVertical, rotateQuarterTurns, type BorderFill } from './geometric-transforms.js';
import { gaussianBlur } from './gaussian-blur.js';
import type { RgbImage } from './decode/image-decode.js';
import { randomInt, uniform, type Random } from './prng.js';

/** Strengths of each augmentation; 0 (or false) turns one off. Plain JSON so it travels to workers and into config.json. */
export interface Augmentation {
  flips: boolean;
  rotate90: boolean;
  affine: { maxRotationDeg: number; maxScaleChange: number; maxShift: number; probability: number };
  brightness: number;
  contrast: number;
  hsv: { hue: number; saturation: number; value: number };
  /** Stain jitter in HED space: each stain's amount scaled by 1±scale and shifted by ±shift. */
  hed: { scale: number; shift: number };
  blur: { probability: number; maxSigma: number };
  /**
   * 'quarter': 90° turns (lossless) plus the affine jitter's small angles; 'any': a uniform angle in
   * [0°, 360°) (with the flips, the whole symmetry group of a cell that has no up or down), resampled
   * once together with the affine jitter.
   */
  rotation: 'quarter' | 'any';
  /** What fills the corners a rotation uncovers: 'reflect' the image, or 'background' (the median colour of its border). */
  fill: 'reflect' | 'background';
}

/** Defaults suited to smears: strong geometric invariance, mild colour and stain changes, rare light blur. */
export const smearAugmentation: Augmentation = {
  flips: true,
  rotate90: true,
  affine: { maxRotationDeg: 15, maxScaleChange: 0.1, maxShift: 0.05, probability: 0.5 },
  brightness: 0.1,
  contrast: 0.1,
  hsv: { hue: 0.02, saturation: 0.1, value: 0.05 },
  hed: { scale: 0.05, shift: 0.02 },
  blur: { probability: 0.1, maxSigma: 1.0 },
  rotation: 'quarter',
  fill: 'reflect',
};

/** The training recipe's knobs on top of smearAugmentation. */
export interface AugmentationChoice {
  /** Multiplies the stain (HED) jitter's scale and shift: 0 off, 1 smearAugmentation's. */
  stainJitter: number;
  rotation: Augmentation['rotation'];
  fill: Augmentation['fill'];
}

export function smearAugmentationWith({ stainJitter, rotation, fill }: AugmentationChoice): Augmentation {
  const { hed } = smearAugmentation;
  return { ...structuredClone(smearAugmentation), hed: { scale: hed.scale * stainJitter, shift: hed.shift * stainJitter }, rotation, fill };
}

/**
 * Applies the augmentation with draws from `random`. Every parameter is drawn whether or not its
 * transform is enabled, so turning one transform off does not change what the others do.
 */
export function augmentImage(image: RgbImage, augmentation: Augmentation, random: Random): RgbImage {
  const flipH = random() < 0.5;
  const flipV = random() < 0.5;
  const quarterTurns = randomInt(random, 4);
  const affineOn = random() < augmentation.affine.probability;
  const { maxRotationDeg, maxScaleChange, maxShift } = augmentation.affine;
  const jitter = {
    rotationDeg: uniform(random, -maxRotationDeg, maxRotationDeg),
    scale: 1 + uniform(random, -maxScaleChange, maxScaleChange),
    shiftX: uniform(random, -maxShift, maxShift),
    shiftY: uniform(random, -maxShift, maxShift),
  };
  const brightness = 1 + uniform(random, -augmentation.brightness, augmentation.brightness);
  const contrast = 1 + uniform(random, -augmentation.contrast, augmentation.contrast);
  const hueShift = uniform(random, -augmentation.hsv.hue, augmentation.hsv.hue);
  const saturation = 1 + uniform(random, -augmentation.hsv.saturation, augmentation.hsv.saturation);
  const value = 1 + uniform(random, -augmentation.hsv.value, augmentation.hsv.value);
  const hedScales = [0, 1, 2].map(() => 1 + uniform(random, -augmentation.hed.scale, augmentation.hed.scale));
  const hedShifts = [0, 1, 2].map(() => uniform(random, -augmentation.hed.shift, augmentation.hed.shift));
  const blurOn = random() < augmentation.blur.probability;
  const blurSigma = uniform(random, 0.1, Math.max(0.1, augmentation.blur.maxSigma));
  // Drawn last, so the draws above are the same whichever rotation is chosen.
  const anyAngleDeg = uniform(random, 0, 360);

  let out = image;
  if (augmentation.flips && flipH) out = flipHorizontal(out);
  if (augmentation.flips && flipV) out = flipVertical(out);
  if (augmentation.rotation === 'any') {
    // One resampling for the free angle and the jitter's scale and shift (its own angle is subsumed).
    const fill: BorderFill = augmentation.fill === 'background' ? borderMedianColor(out) : 'reflect';
    const scaleAndShift = affineOn ? { scale: jitter.scale, shiftX: jitter.shiftX, shiftY: jitter.shiftY } : { scale: 1, shiftX: 0, shiftY: 0 };
    out = affineTransform(out, { rotationDeg: anyAngleDeg, ...scaleAndShift }, fill);
  } else {
    if (augmentation.rotate90) out = rotateQuarterTurns(out, quarterTurns);
    if (affineOn && (maxRotationDeg > 0 || maxScaleChange > 0 || maxShift > 0)) {
      out = affineTransform(out, jitter, augmentation.fill === 'background' ? borderMedianColor(out) : 'reflect');
    }
  }
  if (augmentation.hed.scale > 0 || augmentation.hed.shift > 0) out = { ...out, pixels: jitterHed(out.pixels, hedScales, hedShifts) };
  if (augmentation.hsv.hue > 0 || augmentation.hsv.saturation > 0 || augmentation.hsv.value > 0) {
    out = { ...out, pixels: adjustHsv(out.pixels, hueShift, saturation, value) };
  }
  if (augmentation.brightness > 0 || augmentation.contrast > 0) out = { ...out, pixels: adjustBrightnessContrast(out.pixels, brightness, contrast) };
  if (blurOn && augmentation.blur.maxSigma > 0) out = gaussianBlur(out, blurSigma);
  return out;
}
