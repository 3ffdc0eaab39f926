/**
 * sRGB ↔ CIELAB (D65). Reinhard colour transfer works in a perceptual space where the channels
 * are nearly decorrelated, so matching each channel's mean and spread separately is meaningful.
 */
const linearTable = Float64Array.from({ length: 256 }, (_, value) => {
  const c = value / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

const whiteX = 0.95047;
const whiteZ = 1.08883;

function labF(t: number): number {
  return t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116;
}

function labFInverse(t: number): number {
  return t * t * t > 216 / 24389 ? t * t * t : (116 * t - 16) / (24389 / 27);
}

/** Encoding through a 64k table: a pow per channel per pixel was most of Reinhard's time. */
const encodeSteps = 65535;
const encodeTable = Uint8Array.from({ length: encodeSteps + 1 }, (_, i) => {
  const linear = i / encodeSteps;
  const c = linear <= 0.0031308 ? 12.92 * linear : 1.055 * linear ** (1 / 2.4) - 0.055;
  return Math.round(c * 255);
});

function gammaEncode(linear: number): number {
  return linear <= 0 ? 0 : linear >= 1 ? 255 : encodeTable[Math.round(linear * encodeSteps)];
}

/** HWC uint8 RGB → planar Float64 L, a, b (length pixels each). */
export function rgbToLab(pixels: Uint8Array): [Float64Array, Float64Array, Float64Array] {
  const count = pixels.length / 3;
  const l = new Float64Array(count);
  const a = new Float64Array(count);
  const b = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const r = linearTable[pixels[3 * i]];
    const g = linearTable[pixels[3 * i + 1]];
    const bl = linearTable[pixels[3 * i + 2]];
    const fx = labF((0.4124564 * r + 0.3575761 * g + 0.1804375 * bl) / whiteX);
    const fy = labF(0.2126729 * r + 0.7151522 * g + 0.072175 * bl);
    const fz = labF((0.0193339 * r + 0.119192 * g + 0.9503041 * bl) / whiteZ);
    l[i] = 116 * fy - 16;
    a[i] = 500 * (fx - fy);
    b[i] = 200 * (fy - fz);
  }
  return [l, a, b];
}

export function labToRgb(l: Float64Array, a: Float64Array, b: Float64Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < l.length; i++) {
    const fy = (l[i] + 16) / 116;
    const x = whiteX * labFInverse(fy + a[i] / 500);
    const y = labFInverse(fy);
    const z = whiteZ * labFInverse(fy - b[i] / 200);
    out[3 * i] = gammaEncode(3.2404542 * x - 1.5371385 * y - 0.4985314 * z);
    out[3 * i + 1] = gammaEncode(-0.969266 * x + 1.8760108 * y + 0.041556 * z);
    out[3 * i + 2] = gammaEncode(0.0556434 * x - 0.2040259 * y + 1.0572252 * z);
  }
  return out;
}
