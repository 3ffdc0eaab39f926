// Numbers about one map, each a pure function of plain arrays so it can be checked by hand.

/**
 * Share of the map's positive mass that lies inside the mask (1 = inside). A map equal to the mask
 * scores 1; a uniform map scores the mask's area fraction, the level a map that knows nothing
 * reaches. A map with no positive mass scores 0: it points nowhere, so not at the cell.
 */
export function cellEnergy(map: ArrayLike<number>, mask: ArrayLike<number>): number {
  if (map.length !== mask.length) throw new Error(`cellEnergy: the map has ${map.length} values and the mask ${mask.length}`);
  let inside = 0;
  let total = 0;
  for (let p = 0; p < map.length; p++) {
    const value = map[p] > 0 ? map[p] : 0;
    total += value;
    if (mask[p]) inside += value;
  }
  return total > 0 ? inside / total : 0;
}

/**
 * Coefficient of variation, standard deviation / mean (population): 0 for a flat map. An all-zero
 * map is flat too and scores 0 here (where std / mean would be 0 / 0), since "no pattern" is what
 * flatness asks about.
 */
export function coefficientOfVariation(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new Error('coefficientOfVariation: no values');
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i];
  const mean = sum / n;
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  const std = Math.sqrt(squares / n);
  if (std === 0) return 0;
  return mean === 0 ? Infinity : std / Math.abs(mean);
}

/** Ranks 1..n, ties given their average rank (as scipy.stats.rankdata does). */
function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && values[order[end]] === values[order[start]]) end++;
    const rank = (start + end + 1) / 2;
    for (let k = start; k < end; k++) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rank correlation: Pearson's correlation of the tie-averaged ranks. It is 0 when either
 * side is constant (no order to agree with), rather than NaN.
 */
export function spearmanCorrelation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`spearmanCorrelation: ${a.length} values against ${b.length}`);
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (ra.length + 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < ra.length; i++) {
    cov += (ra[i] - mean) * (rb[i] - mean);
    va += (ra[i] - mean) ** 2;
    vb += (rb[i] - mean) ** 2;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
}
