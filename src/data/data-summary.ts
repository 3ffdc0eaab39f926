import type { DataErrorReason } from './errors.js';
import type { ConversionNote } from './image-decode.js';
import type { SplitName } from './split-names.js';

export interface SkippedImage {
  file: string;
  reason: DataErrorReason;
  message: string;
}

/** What happened to every listed image: the lab's first view of its data's state. */
export interface DataSummary {
  listed: number;
  loaded: number;
  skipped: Partial<Record<DataErrorReason, number>>;
  skippedImages: SkippedImage[];
  /** Inputs that were fixed on the way in (greyscale, alpha, 16-bit, CMYK, EXIF rotation). */
  converted: Partial<Record<ConversionNote, number>>;
  perClass: Record<string, number>;
  perSplit: Record<SplitName, number>;
  warnings: string[];
  /** Images served from the pixel cache vs decoded in this run. */
  cacheHits: number;
  decoded: number;
}

export function formatDataSummary(summary: DataSummary, maxListed = 20): string {
  const lines = [`${summary.loaded} of ${summary.listed} images loaded (${summary.cacheHits} from cache, ${summary.decoded} decoded)`];
  const skippedTotal = summary.listed - summary.loaded;
  if (skippedTotal > 0) {
    const counts = Object.entries(summary.skipped).map(([reason, count]) => `${reason} ${count}`);
    lines.push(`skipped ${skippedTotal}: ${counts.join(', ')}`);
    for (const image of summary.skippedImages.slice(0, maxListed)) lines.push(`  ${image.message}`);
    if (summary.skippedImages.length > maxListed) lines.push(`  … and ${summary.skippedImages.length - maxListed} more`);
  }
  const converted = Object.entries(summary.converted);
  if (converted.length > 0) lines.push(`converted: ${converted.map(([note, count]) => `${note} ${count}`).join(', ')}`);
  lines.push(`per class: ${Object.entries(summary.perClass).map(([name, count]) => `${name} ${count}`).join(', ')}`);
  lines.push(`per split: train ${summary.perSplit.train}, val ${summary.perSplit.val}, test ${summary.perSplit.test}`);
  for (const warning of summary.warnings) lines.push(`warning: ${warning}`);
  return lines.join('\n');
}
