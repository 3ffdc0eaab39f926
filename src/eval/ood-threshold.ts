// The out-of-distribution threshold: a score above it flags the image. It is fitted on
// in-distribution validation images so that a stated share of them is flagged, the one error
// rate that can be measured without knowing what the unseen kinds of bad input will be.

/**
 * The smallest threshold that flags at most `share` of `scores` (flagged: score > threshold).
 * With n scores, ⌊share·n⌋ are flagged; ties at the threshold stay unflagged, so a few equal
 * scores can only lower the share.
 */
export function fitOodThreshold(scores: ArrayLike<number>, share: number): number {
  if (!(share >= 0 && share < 1)) throw new Error(`fitOodThreshold: the share of in-distribution images to flag must be in [0, 1), got ${share}`);
  if (scores.length === 0) throw new Error('fitOodThreshold: no in-distribution scores to fit the threshold on');
  const sorted = Float64Array.from(scores);
  for (const score of sorted) if (!Number.isFinite(score)) throw new Error(`fitOodThreshold: a score is ${score}, not a finite number`);
  sorted.sort();
  const flagged = Math.floor(share * sorted.length);
  return sorted[sorted.length - 1 - flagged];
}

export function isOutOfDistribution(score: number, threshold: number): boolean {
  // NaN is never in distribution: an image whose score cannot be computed is set aside.
  return !(score <= threshold);
}

/** The share of `scores` flagged by `threshold`. */
export function flaggedShare(scores: ArrayLike<number>, threshold: number): number {
  if (scores.length === 0) return 0;
  let flagged = 0;
  for (let i = 0; i < scores.length; i++) if (isOutOfDistribution(scores[i], threshold)) flagged++;
  return flagged / scores.length;
}
