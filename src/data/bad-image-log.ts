import { DataError, skippableReasons } from './errors.js';
import type { SkippedImage } from './data-summary.js';
import { skippedImageOf } from './files/skipped-list.js';

export type BadImagePolicy = 'skip' | 'fail';

/** Applies the user's --on-bad-image choice in one place: throw at the first bad file, or record it and go on. */
export class BadImageLog {
  readonly skipped: SkippedImage[] = [];

  constructor(readonly policy: BadImagePolicy) {}

  /** A repeated manifest row loses nothing, so it is reported and skipped under either policy. */
  report(error: DataError): void {
    const fatal = this.policy === 'fail' ? error.reason !== 'duplicate' : !skippableReasons.has(error.reason);
    if (fatal) throw error;
    this.skipped.push(skippedImageOf(error));
  }

  counts(): Partial<Record<DataError['reason'], number>> {
    const counts: Partial<Record<DataError['reason'], number>> = {};
    for (const { reason } of this.skipped) counts[reason] = (counts[reason] ?? 0) + 1;
    return counts;
  }
}
