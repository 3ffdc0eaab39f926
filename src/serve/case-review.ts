// A reviewer's corrections, counted beside the model's: the differential a lab signs out is the
// reviewed one, and the model's count stays visible next to it so the two can be compared. A cell
// not yet reviewed keeps the model's call in the reviewed count (as a pre-classification does on a
// CellaVision screen); a cell the model set aside counts only once a reviewer has given it a class.
import type { CaseSummary } from '../run/index.js';
import type { CaseCell } from './case-store.js';
import { ServeError } from './errors.js';

/** Classes a reviewer may give besides the run's own: a cell type the model does not know, and debris. */
export const REVIEW_ONLY_CLASSES = ['other-cell', 'not-a-cell'] as const;
/** Counted in the reviewed differential? A cell of a type the model lacks is; debris is not. */
const COUNTED_REVIEW_CLASSES = new Set<string>(['other-cell']);

export interface DifferentialRow {
  className: string;
  /** The model's count (usable cells, as in the case summary) and its percent of them, 0–100. */
  modelCount: number;
  modelPercent: number;
  /** After review: reviewed cells by their reviewer's class, the rest by the model's call. */
  reviewedCount: number;
  reviewedPercent: number;
}

export interface ReviewedDifferential {
  /** Cells a reviewer has confirmed or reclassified, and those whose class the reviewer changed. */
  reviewed: number;
  reclassified: number;
  /** Cells counted in the reviewed differential (its 100%). */
  counted: number;
  /** Cells a reviewer marked as not a cell. */
  notACell: number;
  rows: DifferentialRow[];
}

export function reviewClasses(classNames: readonly string[]): string[] {
  return [...classNames, ...REVIEW_ONLY_CLASSES];
}

export function checkReviewClass(value: unknown, classNames: readonly string[]): string | null {
  if (value === null) return null;
  const allowed = reviewClasses(classNames);
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new ServeError(400, 'bad-review-class', `the reviewer's class must be one of ${allowed.join(', ')}, or null to take the review back; got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value;
}

/** The class a cell counts under after review, or null when it is not counted. */
export function reviewedClassOf(cell: CaseCell): string | null {
  const result = cell.result;
  if (cell.review) {
    const name = cell.review.className;
    return REVIEW_ONLY_CLASSES.includes(name as (typeof REVIEW_ONLY_CLASSES)[number]) && !COUNTED_REVIEW_CLASSES.has(name) ? null : name;
  }
  return result.ok && !result.ood?.flagged ? result.predicted : null;
}

export function reviewedDifferential(cells: readonly CaseCell[], summary: CaseSummary, classNames: readonly string[]): ReviewedDifferential {
  const counts = new Map<string, number>();
  let counted = 0;
  for (const cell of cells) {
    const name = reviewedClassOf(cell);
    if (name === null) continue;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    counted += 1;
  }
  const model = new Map(summary.differential.map((row) => [row.className, row]));
  const rows = [...classNames, ...COUNTED_REVIEW_CLASSES].map((className) => {
    const reviewedCount = counts.get(className) ?? 0;
    return {
      className,
      modelCount: model.get(className)?.count ?? 0,
      modelPercent: model.get(className)?.percent ?? 0,
      reviewedCount,
      reviewedPercent: counted === 0 ? 0 : (100 * reviewedCount) / counted,
    };
  });
  const reviewed = cells.filter((c) => c.review);
  return {
    reviewed: reviewed.length,
    reclassified: reviewed.filter((c) => !(c.result.ok && c.result.predicted === c.review!.className)).length,
    counted,
    notACell: reviewed.filter((c) => c.review!.className === 'not-a-cell').length,
    rows,
  };
}
