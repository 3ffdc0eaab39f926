/**
 * Stained tissue absorbs light following Beer–Lambert: optical density OD = -ln(I / I0) is linear
 * in stain amounts, which is what makes colour deconvolution (Ruifrok & Johnston 2001) and the
 * Macenko method possible. I0 = 256 with I+1 keeps black pixels finite.
 */
const odTable = Float64Array.from({ length: 256 }, (_, value) => -Math.log((value + 1) / 256));

export function opticalDensity(value: number): number {
  return odTable[value];
}

export function intensityFromOpticalDensity(od: number): number {
  const value = 256 * Math.exp(-od) - 1;
  return value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
}

/** Ruifrok & Johnston's stain vectors (rows: haematoxylin, eosin, DAB) in OD-RGB, as in scikit-image. */
export const rgbFromHed: readonly (readonly number[])[] = [
  [0.65, 0.7, 0.29],
  [0.07, 0.99, 0.11],
  [0.27, 0.57, 0.78],
];

function invert3(m: readonly (readonly number[])[]): number[][] {
  const [[a, b, c], [d, e, f], [g, h, i]] = m;
  const det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
  return [
    [(e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det],
    [(f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det],
    [(d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det],
  ];
}

/** Normalised rows, then inverted: OD-RGB (row vector) × hedFromRgb = stain concentrations. */
const normalisedRgbFromHed = rgbFromHed.map((row) => {
  const length = Math.hypot(...row);
  return row.map((value) => value / length);
});
export const stainBasis: readonly (readonly number[])[] = normalisedRgbFromHed;
export const hedFromRgb: readonly (readonly number[])[] = invert3(normalisedRgbFromHed);
