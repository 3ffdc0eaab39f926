// How well a score separates in-distribution images from a set of out-of-distribution ones: the
// ROC-AUC with the OOD images as positives (1 = every OOD image scores above every ID image).
import { rocCurve } from './roc.js';

export function oodAuroc(inDistribution: ArrayLike<number>, outOfDistribution: ArrayLike<number>): number {
  if (inDistribution.length === 0 || outOfDistribution.length === 0) throw new Error('oodAuroc: needs in-distribution and out-of-distribution scores');
  const scores = [...Array.from(inDistribution), ...Array.from(outOfDistribution)];
  const positive = scores.map((_, i) => i >= inDistribution.length);
  return rocCurve(scores, positive).auc!;
}
