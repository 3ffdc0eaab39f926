import type { Rows } from './rows.js';

export interface RocPoint {
  falsePositiveRate: number;
  truePositiveRate: number;
  /** Score at or above which an image is called positive; null for the (0, 0) starting point. */
  threshold: number | null;
}

export interface RocCurve {
  className: string;
  /** null when the class has no positive or no negative image, so no ROC curve exists. */
  auc: number | null;
  positives: number;
  negatives: number;
  points: RocPoint[];
}

/**
 * ROC curve of one binary problem. Images are swept from the highest score down, one step per
 * distinct score: tied images enter together, so a tie between a positive and a negative becomes
 * a diagonal segment and the trapezoid area gives it exactly half credit, as in the
 * Mann–Whitney U statistic.
 */
export function rocCurve(scores: ArrayLike<number>, isPositive: ArrayLike<boolean>, className = ''): RocCurve {
  if (scores.length !== isPositive.length) {
    throw new Error(`rocCurve: ${scores.length} scores but ${isPositive.length} labels`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`rocCurve: score ${i} is ${scores[i]}, not a finite number`);
  }
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let positives = 0;
  for (let i = 0; i < isPositive.length; i++) if (isPositive[i]) positives++;
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) return { className, auc: null, positives, negatives, points: [] };

  const points: RocPoint[] = [{ falsePositiveRate: 0, truePositiveRate: 0, threshold: null }];
  let truePositives = 0;
  let falsePositives = 0;
  let auc = 0;
  for (let start = 0; start < order.length; ) {
    const threshold = scores[order[start]];
    let end = start;
    while (end < order.length && scores[order[end]] === threshold) {
      if (isPositive[order[end]]) truePositives++;
      else falsePositives++;
      end++;
    }
    const previous = points[points.length - 1];
    const point = { falsePositiveRate: falsePositives / negatives, truePositiveRate: truePositives / positives, threshold };
    auc += (point.falsePositiveRate - previous.falsePositiveRate) * (point.truePositiveRate + previous.truePositiveRate) / 2;
    points.push(point);
    start = end;
  }
  return { className, auc, positives, negatives, points };
}

export interface RocOneVsRest {
  perClass: RocCurve[];
  /** Mean AUC over the classes that have one; null if none has. */
  macroAuc: number | null;
}

/** One-vs-rest: class k's probability column scores "is class k" against all other images. */
export function rocAucOneVsRest(probs: Rows, labels: ArrayLike<number>, classNames: readonly string[]): RocOneVsRest {
  const perClass = classNames.map((name, k) =>
    rocCurve(probs.map((row) => row[k]), Array.from(labels, (y) => y === k), name),
  );
  const defined = perClass.flatMap((c) => (c.auc === null ? [] : [c.auc]));
  const macroAuc = defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length;
  return { perClass, macroAuc };
}
