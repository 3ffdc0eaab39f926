import { writeFileAtomicAsync } from '../../io/index.js';
import { formatCsvRow } from '../csv.js';
import type { SkippedImage } from '../data-summary.js';
import type { DataError } from '../errors.js';

export function skippedImageOf(error: DataError): SkippedImage {
  return { file: error.file, reason: error.reason, message: error.message, detail: error.detail };
}

/**
 * Writes every skipped input as CSV (`path,reason,message`), atomically, so the full list is kept
 * beside the run or the metrics however long it is; the console shows only the first few. The
 * message column is the detail (what happened, what to do): path and reason have their columns.
 */
export async function writeSkippedList(path: string, skipped: readonly SkippedImage[]): Promise<void> {
  const lines = [formatCsvRow(['path', 'reason', 'message']), ...skipped.map((image) => formatCsvRow([image.file, image.reason, image.detail]))];
  await writeFileAtomicAsync(path, `${lines.join('\n')}\n`);
}
