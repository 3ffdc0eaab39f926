// THE case summary: what predict, evaluate, the report and the web page show for a case (the images
// of one patient). A case call where the run's labels belong to the patient (from its case model,
// else from the baseline chosen on its validation cases), a differential count of the usable cells,
// how many were flagged for review, and the cells ranked by how much they weigh in the case (the case
// model's attention, else their probability of the called class, else their confidence). It fails closed: the case is referred while flagged cells exceed the stated share or
// too few cells are left to call it, whatever its probability says.
// What "flagged" counts depends on what the labels are. Where they are cell types, a cell whose own
// call is unsure is flagged for review. Where they belong to the patient (a genetic subtype), most
// cells cannot carry their patient's label alone (a mature neutrophil is in every kind of case), so
// their own confidence says nothing about the case: there the flagged cells are the images set
// aside (unreadable, or unlike the training cells), and the case call is referred below the case
// referral threshold fitted for it (eval/case-referral.ts), not below the cells' threshold.
import { caseBaselineCall, caseCallReferred, type CaseBaseline } from '../eval/index.js';
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
  /** What `flagged` counts: usable cells whose own call is unsure (labels are cell types), or images set aside (labels belong to the patient). */
  flagRule: CaseFlagRule;
  /** Cells flagged for review under `flagRule`. */
  flagged: number;
  /** flagged / usable under 'low-confidence' (1 when nothing is usable); flagged / cells under 'set-aside' (1 when no images). */
  flaggedShare: number;
  /** Usable cells whose own call is below the cell referral threshold, whatever the rule. */
  lowConfidence: number;
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
    /** The case probability below which the call is referred, and where it comes from. */
    threshold: number;
    thresholdSource: string;
    referReasons: string[];
  };
  /** The case flag, with or without a call: never false while a reason to review the case stands. */
  refer: boolean;
  /** Why, in words that name the numbers; empty when `refer` is false. */
  referReasons: string[];
  /** Usable cells by case weight, highest first (ties in input order). */
  ranked: { file: string; weight: number; predicted: string; confidence: number; refer: boolean; outOfDistribution: boolean }[];
}

/** See the file comment. */
export type CaseFlagRule = 'low-confidence' | 'set-aside';

export interface SummarizeCaseOptions {
  caseId?: string;
  /** Refer the case when more than this share of its usable cells is flagged (default 0.2). */
  maxFlaggedShare?: number;
  /** Refer a case call whose probability is below this (default: the threshold fitted for the call, else the run's referral threshold; 1 refers every call). */
  threshold?: number;
  /** Refer a case call made from fewer usable cells (default 10). */
  minUsableCells?: number;
}

/** What a case summary reads of a run: its classes, its threshold and, for patient-labelled runs, its case level. */
export interface CaseSummaryRun {
  classNames: LoadedRun['classNames'];
  calibration: LoadedRun['calibration'];
  /** Absent or null: the run's labels are cell types, so no case call is made. */
  caseLevel?: { baseline: CaseBaseline; model?: CaseModel | null; referral?: { threshold: number; fittedOn: string } | null } | null;
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
function caseReasons(counts: { cells: number; setAside: number; usable: number; lowConfidence: number }, rule: CaseFlagRule, maxFlaggedShare: number): string[] {
  const { cells, setAside, usable, lowConfidence } = counts;
  if (usable === 0) return [cells === 0 ? 'no images were given' : `no usable cells: all ${cells} image(s) were unreadable or unlike the training cells`];
  const reasons: string[] = [];
  if (setAside / cells > maxFlaggedShare) reasons.push(`${setAside} of ${cells} images (${pct(setAside / cells)}) were unreadable or unlike the training cells, above the stated share of ${pct(maxFlaggedShare)}`);
  if (rule === 'low-confidence' && lowConfidence / usable > maxFlaggedShare) reasons.push(`${lowConfidence} of ${usable} usable cells (${pct(lowConfidence / usable)}) were flagged for low confidence, above the stated share of ${pct(maxFlaggedShare)}`);
  return reasons;
}

/** The case probability below which the call is referred, and where it comes from, in words (the summary's rule; evaluate counts referrals by it too). */
export function caseCallThreshold(run: Pick<CaseSummaryRun, 'calibration' | 'caseLevel'>, asked?: number): { threshold: number; source: string } {
  if (asked !== undefined) return { threshold: asked, source: 'the stated case referral threshold' };
  const fitted = run.caseLevel?.referral;
  if (fitted) return { threshold: fitted.threshold, source: `the case referral threshold, fitted on ${fitted.fittedOn}: none of them at or above it was wrong` };
  return { threshold: run.calibration?.referralThreshold ?? DEFAULT_REFERRAL_THRESHOLD, source: "the run's referral threshold" };
}

/** Summarises one case from the prediction core's results for its images (in any order). */
export function summarizeCase(run: CaseSummaryRun, results: readonly PredictResult[], options: SummarizeCaseOptions = {}): CaseSummary {
  const maxFlaggedShare = options.maxFlaggedShare ?? DEFAULT_MAX_FLAGGED_SHARE;
  const minUsableCells = options.minUsableCells ?? DEFAULT_MIN_USABLE_CELLS;
  checkShare('the stated share of flagged cells (maxFlaggedShare)', maxFlaggedShare);
  if (options.threshold !== undefined) checkShare('the case referral threshold', options.threshold);
  if (!Number.isInteger(minUsableCells) || minUsableCells < 1) throw new Error(`the fewest usable cells for a case call must be a whole number ≥ 1, got ${minUsableCells}`);

  const caseLevel = run.caseLevel ?? null;
  const rule: CaseFlagRule = caseLevel ? 'set-aside' : 'low-confidence';
  const predicted = results.filter((r): r is ImagePrediction => r.ok);
  const usable = predicted.filter((r) => !r.ood?.flagged);
  const lowConfidence = usable.filter((r) => r.refer).length;
  const counts = { cells: results.length, setAside: results.length - usable.length, usable: usable.length, lowConfidence };
  const referReasons = caseReasons(counts, rule, maxFlaggedShare);

  const parts = !caseLevel || usable.length === 0 ? null : caseLevel.model ? modelCall(run, caseLevel.model, usable) : baselineCall(run, caseLevel.baseline, usable);
  let call: CaseSummary['call'] = null;
  if (parts) {
    const { threshold, source } = caseCallThreshold(run, options.threshold);
    const probability = parts.probabilities[parts.label];
    if (usable.length < minUsableCells) referReasons.push(`the call rests on ${usable.length} usable cell(s); a case call needs at least ${minUsableCells}`);
    if (caseCallReferred(probability, threshold)) referReasons.push(threshold >= 1 ? `every call is referred: ${source} is 100%` : `case probability ${pct(probability)} is below ${pct(threshold)}, ${source}`);
    referReasons.push(...parts.notes);
    call = { label: parts.label, probability, probabilities: parts.probabilities, source: parts.source, refer: referReasons.length > 0, referReasons, threshold, thresholdSource: source };
  }
  const weights = parts?.weights ?? usable.map((cell) => cell.confidence);
  const ranked = usable
    .map((cell, i) => ({ file: cell.file, weight: weights[i], predicted: cell.predicted, confidence: cell.confidence, refer: cell.refer, outOfDistribution: false, i }))
    .sort((a, b) => b.weight - a.weight || a.i - b.i)
    .map(({ i: _i, ...cell }) => cell);
  const flagged = rule === 'set-aside' ? counts.setAside : lowConfidence;
  const flaggedOf = rule === 'set-aside' ? results.length : usable.length;
  return {
    caseId: options.caseId ?? null,
    cells: results.length,
    failed: results.length - predicted.length,
    outOfDistribution: predicted.length - usable.length,
    usable: usable.length,
    flagRule: rule,
    flagged,
    flaggedShare: flaggedOf === 0 ? 1 : flagged / flaggedOf,
    lowConfidence,
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

/** The flagged cells in words, by the summary's rule: "2 of 21 images set aside for review (unreadable or unlike the training cells; 9.5%)". */
export function flaggedText(summary: Pick<CaseSummary, 'flagRule' | 'flagged' | 'flaggedShare' | 'cells' | 'usable'>): string {
  return summary.flagRule === 'set-aside'
    ? `${summary.flagged} of ${summary.cells} images set aside for review (unreadable or unlike the training cells; ${pct(summary.flaggedShare)})`
    : `${summary.flagged} of ${summary.usable} usable cells flagged for low confidence (${pct(summary.flaggedShare)})`;
}

/**
 * Under the 'set-aside' rule, the cells unsure on their own, and why that is no reason to refer:
 * null under the 'low-confidence' rule (there they are the flagged cells).
 */
export function lowConfidenceNote(summary: Pick<CaseSummary, 'flagRule' | 'lowConfidence' | 'usable'>): string | null {
  if (summary.flagRule !== 'set-aside') return null;
  return `${summary.lowConfidence} of ${summary.usable} usable cells are unsure on their own: expected where the labels belong to the patient (most cells are found in every kind of case), so it is no reason to refer; the case call and its threshold are`;
}
