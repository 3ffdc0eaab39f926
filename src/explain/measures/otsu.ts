// Otsu's threshold (IEEE Trans. SMC 1979): the cut that maximises the between-class variance of a
// histogram. It needs no tuning per stain batch, which is why the cell mask uses it on the H channel.

/** The threshold on `values` (any range) that best splits them in two; values above it are the upper class. */
export function otsuThreshold(values: ArrayLike<number>, bins = 256): number {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  if (!(max > min)) return min; // one value only: nothing to split
  const width = (max - min) / bins;
  const histogram = new Float64Array(bins);
  for (let i = 0; i < values.length; i++) histogram[Math.min(bins - 1, Math.floor((values[i] - min) / width))]++;
  const total = values.length;
  let sumAll = 0;
  for (let b = 0; b < bins; b++) sumAll += b * histogram[b];
  let countBelow = 0;
  let sumBelow = 0;
  let best = -1;
  let bestBin = 0;
  for (let b = 0; b < bins - 1; b++) {
    countBelow += histogram[b];
    sumBelow += b * histogram[b];
    const countAbove = total - countBelow;
    if (countBelow === 0 || countAbove === 0) continue;
    const meanBelow = sumBelow / countBelow;
    const meanAbove = (sumAll - sumBelow) / countAbove;
    const between = countBelow * countAbove * (meanBelow - meanAbove) ** 2;
    if (between > best) {
      best = between;
      bestBin = b;
    }
  }
  return min + (bestBin + 1) * width;
}
