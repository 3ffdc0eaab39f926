import { argmax, type Rows } from '../eval/index.js';
import type { GalleryKind } from './report-input.js';

export interface GalleryCase {
  /** Row index into the evaluated images. */
  index: number;
  kind: GalleryKind;
  trueClass: number;
  predictedClass: number;
  confidence: number;
}

/**
 * Picks, for each true class, the `perClass` images the model got right with the highest
 * confidence and the `perClass` it got wrong with the highest confidence. The confident
 * mistakes are the ones a reviewer most needs to see: calibration cannot flag them.
 * Ties are broken by index so the same run always shows the same images.
 */
export function selectGalleryCases(probs: Rows, labels: ArrayLike<number>, numClasses: number, perClass = 2): GalleryCase[] {
  const cases: GalleryCase[] = probs.map((row, index) => {
    const predictedClass = argmax(row);
    const trueClass = labels[index];
    const kind: GalleryKind = predictedClass === trueClass ? 'most-confident-right' : 'most-confident-wrong';
    return { index, kind, trueClass, predictedClass, confidence: row[predictedClass] };
  });
  cases.sort((a, b) => b.confidence - a.confidence || a.index - b.index);
  const chosen: GalleryCase[] = [];
  for (let k = 0; k < numClasses; k++) {
    for (const kind of ['most-confident-right', 'most-confident-wrong'] as const) {
      chosen.push(...cases.filter((c) => c.trueClass === k && c.kind === kind).slice(0, perClass));
    }
  }
  return chosen;
}
