import { hedFromRgb, opticalDensity, stainBasis } from './optical-density.js';

/**
 * Colour transforms on HWC uint8 RGB, all returning a new array. They imitate what differs
 * between labs: lamp brightness, camera contrast and white balance, and stain batches.
 */

function clampByte(value: number): number {
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** brightness multiplies intensities; contrast scales distances from the image's mean grey (as torchvision). */
export function adjustBrightnessContrast(pixels: Uint8Array, brightness: number, contrast: number): Uint8Array {
  let sum = 0;
  for (let i = 0; i < pixels.length; i += 3) sum += 0.299 * pixels[i] + 0.587 * pixels[i + 1] + 0.114 * pixels[i + 2];
  const meanGrey = (brightness * sum) / (pixels.length / 3);
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = clampByte((pixels[i] * brightness - meanGrey) * contrast + meanGrey);
  return out;
}

/** hueShift in turns (0.02 = 7.2°); saturation and value are factors. */
export function adjustHsv(pixels: Uint8Array, hueShift: number, saturation: number, value: number): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 3) {
    const r = pixels[i] / 255;
    const g = pixels[i + 1] / 255;
    const b = pixels[i + 2] / 255;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    const delta = max - min;
    let hue = 0;
    if (delta > 0) {
      if (max === r) hue = ((g - b) / delta + 6) % 6;
      else if (max === g) hue = (b - r) / delta + 2;
      else hue = (r - g) / delta + 4;
      hue /= 6;
    }
    const s = Math.min(1, (max > 0 ? delta / max : 0) * saturation);
    const v = Math.min(1, max * value);
    const h = (((hue + hueShift) % 1) + 1) % 1;
    const sector = Math.floor(h * 6);
    const f = h * 6 - sector;
    const p = v * (1 - s);
    const q = v * (1 - f * s);
    const t = v * (1 - (1 - f) * s);
    let rr: number, gg: number, bb: number;
    switch (sector % 6) {
      case 0: rr = v; gg = t; bb = p; break;
      case 1: rr = q; gg = v; bb = p; break;
      case 2: rr = p; gg = v; bb = t; break;
      case 3: rr = p; gg = q; bb = v; break;
      case 4: rr = t; gg = p; bb = v; break;
      default: rr = v; gg = p; bb = q;
    }
    out[i] = clampByte(rr * 255);
    out[i + 1] = clampByte(gg * 255);
    out[i + 2] = clampByte(bb * 255);
  }
  return out;
}

/**
 * Stain jitter (Tellez et al. 2018): unmix into haematoxylin/eosin/DAB by colour deconvolution,
 * scale and shift each stain's amount, remix. This varies stain strength the way staining
 * batches do, which plain RGB jitter cannot express.
 *
 * Unmix, jitter and remix are linear in optical density, so they fold into one 3×3 matrix A and
 * offset b: OD' = OD·A + b. Then exp(-OD') is a product of per-input-channel factors, which are
 * tabulated once per call: nine multiplications per pixel instead of three exponentials.
 */
export function jitterHed(pixels: Uint8Array, scales: readonly number[], shifts: readonly number[]): Uint8Array {
  const a = [0, 1, 2].map((k) => [0, 1, 2].map((c) => [0, 1, 2].reduce((sum, s) => sum + hedFromRgb[k][s] * scales[s] * stainBasis[s][c], 0)));
  const offset = [0, 1, 2].map((c) => [0, 1, 2].reduce((sum, s) => sum + shifts[s] * stainBasis[s][c], 0));
  // factors[(k * 256 + value) * 3 + c] = exp(-OD(value) · A[k][c]); channel 0 also carries 256·exp(-b_c).
  const factors = new Float64Array(3 * 256 * 3);
  for (let k = 0; k < 3; k++) {
    for (let value = 0; value < 256; value++) {
      for (let c = 0; c < 3; c++) {
        const scale = k === 0 ? 256 * Math.exp(-offset[c]) : 1;
        factors[(k * 256 + value) * 3 + c] = scale * Math.exp(-opticalDensity(value) * a[k][c]);
      }
    }
  }
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 3) {
    const r = pixels[i] * 3;
    const g = (256 + pixels[i + 1]) * 3;
    const b = (512 + pixels[i + 2]) * 3;
    out[i] = clampByte(factors[r] * factors[g] * factors[b] - 1);
    out[i + 1] = clampByte(factors[r + 1] * factors[g + 1] * factors[b + 1] - 1);
    out[i + 2] = clampByte(factors[r + 2] * factors[g + 2] * factors[b + 2] - 1);
  }
  return out;
}
