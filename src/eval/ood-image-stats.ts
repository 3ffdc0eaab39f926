// A few colour and texture statistics of the image the model saw: a check that does not depend on
// what the network learned. A smear crop has a light stained background, purple-blue nuclei and
// smooth texture; a blank field, noise, a grey or washed-out picture differs in these numbers
// even where a network's features happen to land near a class.

/** Names of the statistics, in the order imageStatistics returns them. */
export const IMAGE_STATISTICS = [
  'mean red', 'mean green', 'mean blue',
  'sd red', 'sd green', 'sd blue',
  'near-white share', 'near-black share', 'mean saturation', 'fine texture',
] as const;

/** A pixel whose darkest channel is above this (of 1) is near white; whose brightest is below 1 − this, near black. */
const NEAR_WHITE = 0.94;

export interface ChannelNormalization {
  mean: readonly number[];
  std: readonly number[];
}

/**
 * The statistics of one image given as the model's input: normalised CHW floats (`side` × `side`
 * per channel, starting at `offset`), turned back into [0, 1] RGB with the run's channel statistics.
 */
export function imageStatistics(chw: Float32Array, offset: number, side: number, normalization: ChannelNormalization): Float64Array {
  const plane = side * side;
  const rgb = [0, 1, 2].map((c) => {
    const values = new Float64Array(plane);
    const base = offset + c * plane;
    for (let i = 0; i < plane; i++) values[i] = Math.min(1, Math.max(0, chw[base + i] * normalization.std[c] + normalization.mean[c]));
    return values;
  });
  const sums = [0, 0, 0];
  const squares = [0, 0, 0];
  let white = 0;
  let black = 0;
  let saturation = 0;
  const luminance = new Float64Array(plane);
  for (let i = 0; i < plane; i++) {
    const r = rgb[0][i];
    const g = rgb[1][i];
    const b = rgb[2][i];
    sums[0] += r; sums[1] += g; sums[2] += b;
    squares[0] += r * r; squares[1] += g * g; squares[2] += b * b;
    const max = Math.max(r, g, b);
    const min = Math.min(r, g, b);
    if (min > NEAR_WHITE) white++;
    if (max < 1 - NEAR_WHITE) black++;
    saturation += max > 0 ? (max - min) / max : 0;
    luminance[i] = 0.299 * r + 0.587 * g + 0.114 * b;
  }
  let texture = 0;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const i = y * side + x;
      if (x + 1 < side) texture += Math.abs(luminance[i + 1] - luminance[i]);
      if (y + 1 < side) texture += Math.abs(luminance[i + side] - luminance[i]);
    }
  }
  const means = sums.map((s) => s / plane);
  const sds = squares.map((s, c) => Math.sqrt(Math.max(0, s / plane - means[c] * means[c])));
  return Float64Array.from([...means, ...sds, white / plane, black / plane, saturation / plane, texture / (2 * side * (side - 1))]);
}
