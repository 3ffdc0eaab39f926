import type { BadImageLog } from '../bad-image-log.js';
import { DataError } from '../errors.js';
import type { IngestedSample } from '../ingest.js';
import { splitNames, type SplitName } from '../split-names.js';

function describe(sample: IngestedSample): string {
  return sample.line !== undefined ? `${sample.key} (line ${sample.line}, "${sample.label}")` : `${sample.key} ("${sample.label}")`;
}

/** Byte-identical images under two labels: one of the labels is wrong, and no split can make both right. */
export function assertOneLabelPerContent(samples: IngestedSample[], source: string): void {
  const first = new Map<string, IngestedSample>();
  for (const sample of samples) {
    const seen = first.get(sample.hash);
    if (!seen) first.set(sample.hash, sample);
    else if (seen.label !== sample.label) {
      throw new DataError(
        source,
        'label-conflict',
        `${describe(seen)} and ${describe(sample)} are the same image (identical bytes) under two labels; an image has one label: remove the wrongly labelled copy or fix its label`,
      );
    }
  }
}

/**
 * The same bytes in two splits is leakage even under different names: keeps the copy in the
 * earliest split and reports the others as skipped.
 */
export function dropCrossSplitCopies(samples: IngestedSample[], assignments: Record<string, SplitName>, badImages: BadImageLog): IngestedSample[] {
  const rank = (name: SplitName) => splitNames.indexOf(name);
  const kept = new Map<string, IngestedSample>();
  for (const sample of samples) {
    const seen = kept.get(sample.hash);
    if (!seen || rank(assignments[sample.key]) < rank(assignments[seen.key])) kept.set(sample.hash, sample);
  }
  return samples.filter((sample) => {
    const twin = kept.get(sample.hash)!;
    const keptSplit = assignments[twin.key];
    if (assignments[sample.key] === keptSplit) return true;
    badImages.report(
      new DataError(sample.path, 'duplicate-across-splits', `same content as ${twin.path} (in ${keptSplit}) but assigned to ${assignments[sample.key]}; left out to avoid leakage`),
    );
    return false;
  });
}
