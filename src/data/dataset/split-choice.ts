import type { SkippedImage } from '../data-summary.js';
import { DataError } from '../errors.js';
import type { SplitFile, SplitSpec } from '../split-file.js';
import type { SplitName } from '../split-names.js';
import { toKey, type DatasetSource } from '../sources/source-types.js';

export type DatasetSplit = SplitSpec | { kind: 'file'; path: string };

export const defaultSplit: SplitSpec = { kind: 'holdout', fractions: { train: 0.7, val: 0.15, test: 0.15 }, seed: 0 };

/**
 * The split to use: the caller's, else the manifest's split column, else the default holdout.
 * A computed split over a manifest that fixes splits would silently move rows the user placed
 * (e.g. test rows into training), so that combination is refused rather than guessed.
 */
export function chooseSplit(source: DatasetSource, requested: DatasetSplit | undefined, sourcePath: string): DatasetSplit {
  const declared = source.declaredSplits.size > 0;
  if (!requested) return declared ? { kind: 'manifest' } : defaultSplit;
  if (declared && (requested.kind === 'holdout' || requested.kind === 'k-fold')) {
    throw new DataError(
      sourcePath,
      'bad-split',
      `the manifest fixes each row's split in its split column, but a ${requested.kind} split was asked for; use the manifest's splits (split kind 'manifest', the default), or remove the split column to let aplnet split`,
    );
  }
  return requested;
}

/** Files the saved split file places are counted in that split, so evaluate can say how many of its test images it skipped. */
export function skippedPerSplit(
  skipped: SkippedImage[],
  source: DatasetSource,
  assignments: SplitFile['assignments'],
): Record<SplitName | 'unassigned', number> {
  const counts: Record<SplitName | 'unassigned', number> = { train: 0, val: 0, test: 0, unassigned: 0 };
  for (const image of skipped) {
    const key = toKey(source.root, image.file);
    image.split ??= assignments[key] ?? source.declaredSplits.get(key);
    counts[image.split ?? 'unassigned']++;
  }
  return counts;
}
