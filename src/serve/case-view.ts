// An open case as the page, the API and the exports see it: every cell with the model's call, its
// place in the case (weight, rank, review group), the reviewer's class beside the call, and the case
// summary with the differential counted both ways. Images are URLs of this server, not inline.
import type { CaseSummary } from '../run/index.js';
import { reviewClasses, reviewedClassOf, reviewedDifferential, type ReviewedDifferential } from './case-review.js';
import type { CaseCell, CellReview, OpenCase } from './case-store.js';
import type { ModelInfo } from './model-info.js';
import type { OverlayMethod } from './protocol.js';

/**
 * Where the review screen shows a cell: with its predicted class, or in a group of its own when the
 * model should not be trusted on it (low confidence), set it aside (unlike the training cells), or
 * could not read it.
 */
export type ReviewGroup = 'class' | 'low-confidence' | 'out-of-distribution' | 'unreadable';

export interface CellView {
  index: number;
  file: string;
  ok: boolean;
  group: ReviewGroup;
  predicted: string | null;
  confidence: number | null;
  probabilities: Record<string, number> | null;
  refer: boolean;
  referReason: string | null;
  ood: { score: number; threshold: number; flagged: boolean } | null;
  notes: string[];
  /** Why an unreadable file could not be used (the prediction core's reason and message). */
  reason: string | null;
  message: string | null;
  /** Its weight in the case call and its rank by weight (1 = weighs most); null when not in the call. */
  weight: number | null;
  rank: number | null;
  review: CellReview | null;
  /** The class it counts under in the reviewed differential (null: not counted). */
  reviewedClass: string | null;
  images: { input: string | null; maps: Partial<Record<OverlayMethod, string>> };
}

export interface CaseView {
  caseId: string;
  createdAt: string;
  updatedAt: string;
  model: string;
  classes: string[];
  reviewClasses: string[];
  referralThreshold: number;
  summary: CaseSummary;
  reviewed: ReviewedDifferential;
  cells: CellView[];
}

export const casePath = (caseId: string): string => `/api/cases/${encodeURIComponent(caseId)}`;

/**
 * The gallery group of a cell. A cell unsure on its own has a group of its own only where that is a
 * flag (labels are cell types); where the labels belong to the patient nearly every cell is unsure
 * of its patient's label, so it stays under its call (the summary's flagRule says which).
 */
export function groupOf(cell: CaseCell, flagRule: CaseSummary['flagRule'] = 'low-confidence'): ReviewGroup {
  const r = cell.result;
  if (!r.ok) return 'unreadable';
  if (r.ood?.flagged) return 'out-of-distribution';
  return r.refer && flagRule === 'low-confidence' ? 'low-confidence' : 'class';
}

export function cellView(openCase: OpenCase, cell: CaseCell, ranks: Map<string, { weight: number; rank: number }>, flagRule: CaseSummary['flagRule'] = 'low-confidence'): CellView {
  const r = cell.result;
  const base = `${casePath(openCase.caseId)}/cells/${cell.index}`;
  const place = ranks.get(cell.file);
  return {
    index: cell.index,
    file: cell.file,
    ok: r.ok,
    group: groupOf(cell, flagRule),
    predicted: r.ok ? r.predicted : null,
    confidence: r.ok ? r.confidence : null,
    probabilities: r.ok ? r.probabilities : null,
    refer: r.ok ? r.refer : true,
    referReason: r.ok ? r.referReason : null,
    ood: r.ok && r.ood ? { score: r.ood.score, threshold: r.ood.threshold, flagged: r.ood.flagged } : null,
    notes: r.ok ? r.notes : [],
    reason: r.ok ? null : r.reason,
    message: r.ok ? null : r.message,
    weight: place?.weight ?? null,
    rank: place?.rank ?? null,
    review: cell.review,
    reviewedClass: reviewedClassOf(cell),
    images: {
      input: cell.inputPng ? `${base}/input.png` : null,
      maps: Object.fromEntries(Object.keys(cell.heatmaps).map((method) => [method, `${base}/maps/${method}.png`])),
    },
  };
}

export function ranksOf(summary: CaseSummary): Map<string, { weight: number; rank: number }> {
  return new Map(summary.ranked.map((cell, i) => [cell.file, { weight: cell.weight, rank: i + 1 }]));
}

export function caseView(openCase: OpenCase, summary: CaseSummary, info: ModelInfo): CaseView {
  const ranks = ranksOf(summary);
  return {
    caseId: openCase.caseId,
    createdAt: openCase.createdAt,
    updatedAt: openCase.updatedAt,
    model: info.name,
    classes: info.classes,
    reviewClasses: reviewClasses(info.classes),
    referralThreshold: info.calibration.referralThreshold,
    summary,
    reviewed: reviewedDifferential(openCase.cells, summary, info.classes),
    cells: openCase.cells.map((cell) => cellView(openCase, cell, ranks, summary.flagRule)),
  };
}
