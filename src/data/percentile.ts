/**
 * Linear-interpolated percentile (0..100) of the values, by quickselect on a copy: O(n), where
 * sorting made the percentiles most of Macenko's per-image cost.
 */
export function percentile(values: Float64Array | Float32Array, percent: number): number {
  if (values.length === 0) return Number.NaN;
  const work = Float64Array.from(values);
  const position = (percent / 100) * (work.length - 1);
  const lower = Math.floor(position);
  const lowerValue = select(work, lower);
  if (lower + 1 >= work.length || position === lower) return lowerValue;
  // After selecting `lower`, everything above it is ≥ it, so the next order statistic is their minimum.
  let upperValue = Infinity;
  for (let i = lower + 1; i < work.length; i++) if (work[i] < upperValue) upperValue = work[i];
  return lowerValue + (upperValue - lowerValue) * (position - lower);
}

/** Hoare-style quickselect: places the k-th smallest at index k, smaller before it, larger after. */
function select(values: Float64Array, k: number): number {
  let left = 0;
  let right = values.length - 1;
  while (right > left) {
    const pivot = values[(left + right) >> 1];
    let i = left;
    let j = right;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const held = values[i];
        values[i] = values[j];
        values[j] = held;
        i++;
        j--;
      }
    }
    if (k <= j) right = j;
    else if (k >= i) left = i;
    else break;
  }
  return values[k];
}
