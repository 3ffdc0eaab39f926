// THE case summary: what predict, evaluate, the report and the web page show for a case (the images
// of one patient). A case call where the run's labels belong to the patient (from its case model,
// else from the baseline chosen on its validation cases), a differential count of the usable cells,
// how many were flagged for review, and the cells ranked by how much they weigh in the case (the case
// model's attention, else their probability of the called class, else their confidence). It fails closed: the case is referred while flagged cells exceed the stated share or
// too few cells are left to call it, whatever its probability says.
import { caseBaselineCall, type CaseBaseline } from '../eval/index.js';
import type { CaseModel } from '../model/index.js';
import { DEFAULT_REFERRAL_THRESHOLD } from '../train/index.js';
import { caseModelCall } from './case-model-call.js';
import type { LoadedRun } from './load-run.js';
import type { ImagePrediction, PredictResult } from './predict-images.js';

export type CaseCallSource = 'case-model' | CaseBaseline;

/** How each source of a case call is named to people, wherever the call is shown. */
export const CASE_CALL_SOURCE_TITLES: Record<CaseCallSource, string> = {
  'case-model': 'case model: attention over the cells',
  'mean-probability': "baseline: mean of the cells' probabilities",
  'mean-log-probability': "baseline: mean of the cells' log-probabilities",
  'majority-vote': 'baseline: majority vote of the cells',
};

/**
 * One cell in five. Above it the cells the model is sure of are too small a majority to carry a
 * case unreviewed; a lab with its own rule states it with `maxFlaggedShare`.
 */
export const DEFAULT_MAX_FLAGGED_SHARE = 0.2;

/**
 * A case call rests on at least this many usable cells: below it one cell moves a vote share by
 * more than ten points. A differential (no call) is a count and is shown for any number of cells.
 */
export const DEFAULT_MIN_USABLE_CELLS = 10;

export interface CaseSummary {
  caseId: string | null;
  /** Images given. */
  cells: number;
  /** Unreadable images (failures). */
  failed: number;
  /** Images set aside as unlike the training cells: left out of the call and the differential. */
  outOfDistribution: number;
  /** Predicted and not out-of-distribution. */
  usable: number;
  /** Usable cells referred for low confidence. */
  flagged: number;
  /** flagged / usable (1 when nothing is usable). */
  flaggedShare: number;
  /** The stated share above which the case is referred. */
  maxFlaggedShare: number;
  /** Usable cells per predicted class, every class of the run listed in its order; percent of usable, 0–100. */
  differential: { className: string; count: number; percent: number }[];
  /** Null when the run's labels are cell types (then the summary is the differential), or when no cell is usable (then `refer` says so). */
  call: null | {
    label: string;
    probability: number;
    probabilities: Record<string, number>;
    /** Named wherever the call is shown. */
    source: CaseCallSource;
    /** The case flag (the same as the summary's own `refer`). */
    refer: boolean;
    referReasons: string[];
  };
  /** The case flag, with or without a call: never false while a reason to review the case stands. */
  refer: boolean;
  /** Why, in words that name the numbers; empty when `refer` is false. */
  referReasons: string[];
  /** Usable cells by case weight, highest first (ties in input order). */
  ranked: { file: string; weight: number; predicted: string; confidence: number; refer: boolean; outOfDistribution: boolean }[];
}

export interface SummarizeCaseOptions {
  caseId?: string;
  /** Refer the case when more than this share of its usable cells is flagged (default 0.2). */
  maxFlaggedShare?: number;
  /** Refer a case call whose probability is below this (default: the run's referral threshold). */
  threshold?: number;
  /** Refer a case call made from fewer usable cells (default 10). */
  minUsableCells?: number;
}

/** What a case summary reads of a run: its classes, its threshold and, for patient-labelled runs, its case level. */
export interface CaseSummaryRun {
  classNames: LoadedRun['classNames'];
  calibration: LoadedRun['calibration'];
  /** Absent or null: the run's labels are cell types, so no case call is made. */
  caseLevel?: { baseline: CaseBaseline; model?: CaseModel | null } | null;
  /** The cell model and preprocessing, needed with a case model to embed the cells it reads. */
  model?: LoadedRun['model'];
  inference?: LoadedRun['inference'];
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function checkShare(name: string, value: number): void {
  if (!(value >= 0 && value <= 1)) throw new Error(`${name} must be a share in [0, 1], got ${value}`);
}

interface CallParts {
  label: string;
  probabilities: Record<string, number>;
  source: CaseCallSource;
  /** One weight per usable cell, in their order. */
  weights: number[];
  notes: string[];
}

/** The call from the run's case baseline; each cell weighs its probability of the called class, normalised over the case. */
function baselineCall(run: CaseSummaryRun, baseline: CaseBaseline, usable: ImagePrediction[]): CallParts {
  const rows = usable.map((cell) => run.classNames.map((name) => cell.probabilities[name]));
  const call = caseBaselineCall(baseline, rows, run.classNames.length);
  const support = rows.map((row) => row[call.called]);
  const total = support.reduce((a, b) => a + b, 0);
  // A vote that does not decide is not a call to sign out unreviewed (the mean rules cannot tie in practice).
  const tied = baseline === 'majority-vote' ? call.probabilities.flatMap((p, k) => (k !== call.called && p === call.probabilities[call.called] ? [k] : [])) : [];
  const notes = tied.length > 0
    ? [`vote tie between ${[call.called, ...tied].map((k) => run.classNames[k]).join(' and ')} (${pct(call.probabilities[call.called])} of the cells each); called on the higher mean probability`]
    : [];
  return {
    label: run.classNames[call.called],
    probabilities: Object.fromEntries(run.classNames.map((name, k) => [name, call.probabilities[k]])),
    source: baseline,
    weights: support.map((p) => (total > 0 ? p / total : 1 / support.length)),
    notes,
  };
}

/** The call from the run's case model; each cell weighs its attention weight. */
function modelCall(run: CaseSummaryRun, caseModel: CaseModel, usable: ImagePrediction[]): CallParts {
  if (!run.model || !run.inference) throw new Error('summarizeCase: a run with a case model needs its cell model and preprocessing to embed the cells; pass the loaded run');
  const prediction = caseModelCall({ model: run.model, inference: run.inference, calibration: run.calibration }, caseModel, usable);
  return { label: prediction.predicted, probabilities: prediction.probabilities, source: 'case-model', weights: prediction.weights, notes: [] };
}

/** Why the case, called or not, must be reviewed rather than signed out. */
function caseReasons(counts: { cells: number; setAside: number; usable: number; flagged: number }, maxFlaggedShare: number): string[] {
  const { cells, setAside, usable, flagged } = counts;
  if (usable === 0) return [cells === 0 ? 'no images were given' : `no usable cells: all ${cells} image(s) were unreadable or unlike the training cells`];
  const reasons: string[] = [];
  if (setAside / cells > maxFlaggedShare) reasons.push(`${setAside} of ${cells} images (${pct(setAside / cells)}) were unreadable or unlike the training cells, above the stated share of ${pct(maxFlaggedShare)}`);
  if (flagged / usable > maxFlaggedShare) reasons.push(`${flagged} of ${usable} usable cells (${pct(flagged / usable)}) were flagged for low confidence, above the stated share of ${pct(maxFlaggedShare)}`);
  return reasons;
}

/** Summarises one case from the prediction core's results for its images (in any order). */
export function summarizeCase(run: CaseSummaryRun, results: readonly PredictResult[], options: SummarizeCaseOptions = {}): CaseSummary {
  const maxFlaggedShare = options.maxFlaggedShare ?? DEFAULT_MAX_FLAGGED_SHARE;
  const threshold = options.threshold ?? run.calibration?.referralThreshold ?? DEFAULT_REFERRAL_THRESHOLD;
  const minUsableCells = options.minUsableCells ?? DEFAULT_MIN_USABLE_CELLS;
  checkShare('the stated share of flagged cells (maxFlaggedShare)', maxFlaggedShare);
  checkShare('the case referral threshold', threshold);
  if (!Number.isInteger(minUsableCells) || minUsableCells < 1) throw new Error(`the fewest usable cells for a case call must be a whole number ≥ 1, got ${minUsableCells}`);

  const predicted = results.filter((r): r is ImagePrediction => r.ok);
  const usable = predicted.filter((r) => !r.ood?.flagged);
  const flagged = usable.filter((r) => r.refer).length;
  const counts = { cells: results.length, setAside: results.length - usable.length, usable: usable.length, flagged };
  const referReasons = caseReasons(counts, maxFlaggedShare);

  const caseLevel = run.caseLevel ?? null;
  const parts = !caseLevel || usable.length === 0 ? null : caseLevel.model ? modelCall(run, caseLevel.model, usable) : baselineCall(run, caseLevel.baseline, usable);
  let call: CaseSummary['call'] = null;
  if (parts) {
    const probability = parts.probabilities[parts.label];
    if (usable.length < minUsableCells) referReasons.push(`the call rests on ${usable.length} usable cell(s); a case call needs at least ${minUsableCells}`);
    if (probability < threshold) referReasons.push(`case probability ${pct(probability)} is below the referral threshold of ${pct(threshold)}`);
    referReasons.push(...parts.notes);
    call = { label: parts.label, probability, probabilities: parts.probabilities, source: parts.source, refer: referReasons.length > 0, referReasons };
  }
  const weights = parts?.weights ?? usable.map((cell) => cell.confidence);
  const ranked = usable
    .map((cell, i) => ({ file: cell.file, weight: weights[i], predicted: cell.predicted, confidence: cell.confidence, refer: cell.refer, outOfDistribution: false, i }))
    .sort((a, b) => b.weight - a.weight || a.i - b.i)
    .map(({ i: _i, ...cell }) => cell);
  return {
    caseId: options.caseId ?? null,
    cells: results.length,
    failed: results.length - predicted.length,
    outOfDistribution: predicted.length - usable.length,
    usable: usable.length,
    flagged,
    flaggedShare: usable.length === 0 ? 1 : flagged / usable.length,
    maxFlaggedShare,
    differential: run.classNames.map((className) => {
      const count = usable.filter((cell) => cell.predicted === className).length;
      return { className, count, percent: usable.length === 0 ? 0 : (100 * count) / usable.length };
    }),
    call,
    refer: referReasons.length > 0,
    referReasons,
    ranked,
  };
}

/** One summary per case of a batch (`caseIds[i]` is the case of `results[i]`), cases in order of their first image. */
export function summarizeCases(run: CaseSummaryRun, results: readonly PredictResult[], caseIds: readonly string[], options: Omit<SummarizeCaseOptions, 'caseId'> = {}): CaseSummary[] {
  if (caseIds.length !== results.length) throw new Error(`summarizeCases: ${results.length} results but ${caseIds.length} case ids`);
  const byCase = new Map<string, PredictResult[]>();
  results.forEach((result, i) => {
    const members = byCase.get(caseIds[i]) ?? [];
    members.push(result);
    byCase.set(caseIds[i], members);
  });
  return [...byCase].map(([caseId, members]) => summarizeCase(run, members, { ...options, caseId }));
}
