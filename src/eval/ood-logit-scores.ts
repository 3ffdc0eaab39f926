// Out-of-distribution scores read from the logits alone, oriented like every OOD score here:
// larger means less like the training images.
import { logSumExp, softmaxRow } from './softmax.js';

/** The free energy −T·log Σ exp(z/T) (Liu et al., NeurIPS 2020): low for images the model recognises. */
export function energyScore(logits: ArrayLike<number>, temperature = 1): number {
  return -temperature * logSumExp(logits, 1 / temperature);
}

/** 1 − the top softmax probability (Hendrycks & Gimpel, ICLR 2017): the baseline every OOD method is compared with. */
export function maxSoftmaxScore(logits: ArrayLike<number>, temperature = 1): number {
  const probs = softmaxRow(logits, temperature);
  let top = 0;
  for (const p of probs) top = Math.max(top, p);
  return 1 - top;
}
