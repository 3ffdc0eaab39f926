// Each predicted image's out-of-distribution check: its embedding (as the batch answer gives it, in
// the run's TTA mode) and the statistics of the image the model saw, scored by the run's check.
// An ensemble's embedding holds its members' one after another; each member scores its own part,
// and the image is flagged when any member flags it (the one rule for ensembles).
import type { InferenceImage } from '../data/index.js';
import { imageStatistics, isOutOfDistribution, oodScore } from '../eval/index.js';
import type { LoadedRun } from './load-run.js';

export interface OodCheck {
  /** Larger is less like the training images. One model: the check's combined score. An ensemble: the largest member score divided by that member's threshold. */
  score: number;
  /** Flagged when score > threshold (1 for an ensemble). */
  threshold: number;
  flagged: boolean;
}

/** The check for one image; `embedding` is the batch answer's row for it. */
export function oodCheckOf(run: LoadedRun, embedding: Float32Array, image: InferenceImage): OodCheck {
  const side = image.shape[2];
  const stats = imageStatistics(image.x, 0, side, run.inference.channelStats);
  if (!run.members) {
    const { detector } = run.ood!;
    const score = oodScore(detector, embedding, stats);
    return { score, threshold: detector.threshold, flagged: isOutOfDistribution(score, detector.threshold) };
  }
  let offset = 0;
  let score = -Infinity;
  let flagged = false;
  for (const member of run.members) {
    const { detector, record } = member.ood!;
    const own = oodScore(detector, embedding.subarray(offset, offset + record.embeddingSize), stats);
    offset += record.embeddingSize;
    flagged ||= isOutOfDistribution(own, detector.threshold);
    score = Number.isNaN(own) || Number.isNaN(score) ? NaN : Math.max(score, own / detector.threshold);
  }
  return { score, threshold: 1, flagged };
}
