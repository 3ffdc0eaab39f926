import type { CellExtentSummary } from './cell-extent.js';
import type { DataErrorReason } from './errors.js';
import type { ConversionNote } from './decode/image-decode.js';
import type { SplitName } from './split-names.js';

export interface SkippedImage {
  file: string;
  reason: DataErrorReason;
  /** The whole sentence, naming the file and the reason, as printed. */
  message: string;
  /** What happened and what to do, without the file and reason. */
  detail: string;
  /** The split the file would have been in, when that is known (a split file or the manifest's split column). */
  split?: SplitName;
}

/** What happened to every listed image: the lab's first view of its data's state. */
export interface DataSummary {
  listed: number;
  loaded: number;
  skipped: Partial<Record<DataErrorReason, number>>;
  /** Every skipped input, never cut short: write it out with writeSkippedList. */
  skippedImages: SkippedImage[];
  /**
   * Skipped inputs by the split they would have been in; 'unassigned' counts those whose split
   * was yet to be computed when they were left out (a computed holdout or k-fold split).
   */
  skippedPerSplit: Record<SplitName | 'unassigned', number>;
  /** Inputs that were fixed on the way in (greyscale, alpha, 16-bit, CMYK, EXIF rotation). */
  converted: Partial<Record<ConversionNote, number>>;
  perClass: Record<string, number>;
  perSplit: Record<SplitName, number>;
  warnings: string[];
  /** How much of the crops the training cells fill (cell-extent.ts), when the training split was measured. */
  cellExtent?: CellExtentSummary | null;
  /** Advice that is no warning (e.g. a zoom that would give small cells more pixels). */
  notes?: string[];
  /** Images served from the pixel cache vs decoded in this run. */
  cacheHits: number;
  decoded: number;
}

export interface SummaryFormat {
  /** How many skipped files to name; default 20. */
  maxListed?: number;
  /** Where the caller wrote the full list (writeSkippedList), so the text can point to it. */
  skippedListPath?: string;
}

export function formatDataSummary(summary: DataSummary, { maxListed = 20, skippedListPath }: SummaryFormat = {}): string {
  const lines = [`${summary.loaded} of ${summary.listed} images loaded (${summary.cacheHits} from cache, ${summary.decoded} decoded)`];
  const skipped = summary.skippedImages;
  if (skipped.length > 0) {
    const counts = Object.entries(summary.skipped).map(([reason, count]) => `${reason} ${count}`);
    // Training skips files before splitting them, so a split is worth naming only when one is known.
    const perSplit = Object.entries(summary.skippedPerSplit).filter(([, count]) => count > 0);
    const bySplit = perSplit.some(([name]) => name !== 'unassigned') ? `; by split: ${perSplit.map(([name, count]) => `${name} ${count}`).join(', ')}` : '';
    lines.push(`skipped ${skipped.length}: ${counts.join(', ')}${bySplit}`);
    for (const image of skipped.slice(0, maxListed)) lines.push(`  ${image.message}`);
    if (skipped.length > maxListed) lines.push(`  … and ${skipped.length - maxListed} more`);
    if (skippedListPath) lines.push(`  the full list of ${skipped.length} skipped files is in ${skippedListPath}`);
  }
  const converted = Object.entries(summary.converted);
  if (converted.length > 0) lines.push(`converted: ${converted.map(([note, count]) => `${note} ${count}`).join(', ')}`);
  lines.push(`per class: ${Object.entries(summary.perClass).map(([name, count]) => `${name} ${count}`).join(', ')}`);
  lines.push(`per split: train ${summary.perSplit.train}, val ${summary.perSplit.val}, test ${summary.perSplit.test}`);
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  for (const note of summary.notes ?? []) lines.push(`note: ${note}`);
  return lines.join('\n');
}
