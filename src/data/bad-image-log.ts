import { DataError, skippableReasons } from './errors.js';
import type { SkippedImage } from './data-summary.js';

export type BadImagePolicy = 'skip' | 'fail';

/** Applies the user's --on-bad-image choice in one place: throw at the first bad file, or record it and go on. */
export class BadImageLog {
  readonly skipped: SkippedImage[] = [];

  constructor(readonly policy: BadImagePolicy) {}

  report(error: DataError): void {
    if (this.policy === 'fail' || !skippableReasons.has(error.reason)) throw error;
    this.skipped.push({ file: error.file, reason: error.reason, message: error.message });
  }

  counts(): Partial<Record<DataError['reason'], number>> {
    const counts: Partial<Record<DataError['reason'], number>> = {};
    for (const { reason } of this.skipped) counts[reason] = (counts[reason] ?? 0) + 1;
    return counts;
  }
}
