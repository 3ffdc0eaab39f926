// ROC-AUC of one binary problem where image i counts weights[i] times, as a bootstrap resample
// needs: sorting once and sweeping per resample is O(n) instead of a sort per resample.
// Same value as rocCurve's trapezoid area: AUC = P(score_pos > score_neg) + ½·P(tie), the
// Mann–Whitney U statistic, so a tie between a positive and a negative earns half credit.

/** Scores in decreasing order, with the runs of equal scores marked. */
export interface RankedScores {
  order: Int32Array;
  isPositive: Uint8Array;
  /** 1 where order[j] starts a new score (differs from order[j - 1]'s). */
  newScore: Uint8Array;
}

export function rankScores(scores: ArrayLike<number>, isPositive: ArrayLike<boolean>): RankedScores {
  const order = Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const newScore = new Uint8Array(order.length);
  for (let j = 0; j < order.length; j++) newScore[j] = j === 0 || scores[order[j]] !== scores[order[j - 1]] ? 1 : 0;
  return { order, isPositive: Uint8Array.from(isPositive, Number), newScore };
}

/** null when the weighted sample has no positive or no negative image. */
export function weightedAuc({ order, isPositive, newScore }: RankedScores, weights: ArrayLike<number>): number | null {
  let positivesAbove = 0;
  let negatives = 0;
  let pairs = 0;
  let runPositives = 0;
  let runNegatives = 0;
  for (let j = 0; j <= order.length; j++) {
    if (j === order.length || newScore[j]) {
      pairs += runNegatives * (positivesAbove + runPositives / 2);
      positivesAbove += runPositives;
      negatives += runNegatives;
      runPositives = 0;
      runNegatives = 0;
      if (j === order.length) break;
    }
    const i = order[j];
    if (isPositive[i]) runPositives += weights[i];
    else runNegatives += weights[i];
  }
  return positivesAbove === 0 || negatives === 0 ? null : pairs / (positivesAbove * negatives);
}
