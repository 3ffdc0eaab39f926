// case-level.json: the record that a run's labels belong to the patient (every patient of its
// training manifest has exactly one label), which baseline makes the case call when there is no
// case model (chosen on the validation cases), and the case model once trained (its file and
// digest). It is bound to the cell model's weights like calibration.json, validated on read, and
// written atomically; anything that does not match is refused by name.
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { CASE_BASELINES, type CaseBaseline } from '../eval/index.js';
import { readJson, writeJsonAtomic } from '../io/index.js';
import type { SampleRecord } from '../data/index.js';
import { runPath, RUN_FILES } from './run-files.js';

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const fraction = z.number().finite().min(0).max(1);

const CaseModelConfigSchema = z.object({
  embeddingDim: z.number().int().positive(),
  hiddenDim: z.number().int().positive(),
  attentionDim: z.number().int().positive(),
  numClasses: z.number().int().min(2),
  dropout: z.number().finite().min(0).lt(1),
  /** Records written before this field existed pool by attention alone. */
  pooling: z.enum(['attention', 'attention-mean']).default('attention'),
});

/** How a case call's referral threshold was fitted (eval/case-referral.ts). */
export const CaseReferralSchema = z.object({
  /** Refer a case call whose probability is below this (1: every call). */
  threshold: fraction,
  /** The calls it was fitted on, in words. */
  fittedOn: z.string().min(1),
  cases: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  surestWrong: fraction.nullable(),
  referred: z.number().int().nonnegative(),
}).superRefine((r, ctx) => {
  // A threshold that would sign out a call as sure as one it saw wrong is not one this fit made: refused, not used.
  if (r.errors > r.cases || r.referred > r.cases) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${r.errors} errors and ${r.referred} referred of ${r.cases} calls do not add up` });
  if ((r.surestWrong === null) !== (r.errors === 0)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${r.errors} wrong calls but the surest wrong one is ${r.surestWrong}` });
  if (r.surestWrong !== null && !(r.threshold > r.surestWrong || r.threshold === 1)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `threshold ${r.threshold} would not refer the wrong call of probability ${r.surestWrong} it was fitted above` });
});

const SplitScoresSchema = z.object({ cases: z.number().int().nonnegative(), accuracy: fraction, nll: z.number().finite().nonnegative(), brier: z.number().finite().min(0).max(2) });

export const CaseModelRecordSchema = z.object({
  /** File name inside the run folder. */
  file: z.string().min(1).regex(/^[^/\\]+$/),
  sha256,
  encoder: z.enum(['frozen', 'fine-tune']),
  /**
   * What each cell's embedding is: one view of the cell (1), or the mean over its eight dihedral
   * views (8, as the prediction core embeds under test-time augmentation). Records written before
   * this field existed were trained on one view.
   */
  embeddingViews: z.union([z.literal(1), z.literal(8)]).default(1),
  config: CaseModelConfigSchema,
  /**
   * MIL heads, each trained from its own seed (seed, seed + 1, …) with its own best epoch; the call
   * is the mean of their probabilities. Records written before this field existed have one head.
   */
  heads: z.number().int().min(1).max(64).default(1),
  /** Best epoch of every head, for an ensemble (bestEpoch is the first head's). */
  headBestEpochs: z.array(z.number().int().positive()).optional(),
  /** Softmax temperature fitted on the validation cases. */
  temperature: z.number().finite().positive(),
  temperatureFittedOn: z.string().min(1),
  epochs: z.number().int().positive(),
  bestEpoch: z.number().int().positive(),
  seed: z.number().int(),
  trainCases: z.number().int().positive(),
  /**
   * Folds of a cross-validated case model (train-case's default with a frozen encoder): its heads are
   * every fold's, trained over the train and validation cases. Absent: one model trained on the
   * train split (records written before this field existed, a fine-tuned encoder, or --folds 1).
   */
  folds: z.number().int().min(3).max(20).optional(),
  /** The held-out calls' scores with the fitted temperature: the validation cases', or with folds the out-of-fold calls of every case trained on. */
  validation: SplitScoresSchema.nullable(),
  /**
   * The case call's referral threshold, fitted on out-of-fold calls (records written before this
   * field existed have none: the run's cell referral threshold applies, as it did then).
   */
  referral: CaseReferralSchema.optional(),
  trainSeconds: z.number().finite().nonnegative(),
  trainedAt: z.string().min(1),
});

export const CaseLevelSchema = z.object({
  version: z.literal(1),
  /** The case classes: the run's classes, in its order. */
  caseClasses: z.array(z.string().min(1)).min(2),
  /** SHA-256 of the cell model's weights (model.safetensors) this record was made for. */
  weightsSha256: sha256,
  /** The baseline that makes the case call without a case model, chosen on the validation cases. */
  baseline: z.enum(CASE_BASELINES as [CaseBaseline, ...CaseBaseline[]]),
  /** How it was chosen: each baseline's validation-case scores (null: no validation cases, the default was kept). */
  baselineScores: z.record(z.string(), SplitScoresSchema).nullable(),
  /** The baseline call's referral threshold, fitted on its validation-case calls (absent in older records, or without validation cases). */
  baselineReferral: CaseReferralSchema.nullable().optional(),
  model: CaseModelRecordSchema.nullable(),
});

export type CaseLevelRecord = z.infer<typeof CaseLevelSchema>;
export type CaseModelRecord = z.infer<typeof CaseModelRecordSchema>;
export type CaseSplitScores = z.infer<typeof SplitScoresSchema>;
export type CaseReferral = z.infer<typeof CaseReferralSchema>;

/** The case model's weights file inside the run folder. */
export const CASE_MODEL_FILE = RUN_FILES.caseModel;

export function writeCaseLevel(runDir: string, record: CaseLevelRecord): CaseLevelRecord {
  const checked = CaseLevelSchema.parse(record);
  writeJsonAtomic(runPath(runDir, 'caseLevel'), checked);
  return checked;
}

const retrain = (runDir: string) => `run "aplnet train-case ${runDir}" to record it again`;

/**
 * Reads case-level.json for the cell weights with digest `weightsSha256` and the run's classes, or
 * null when the run has none (its labels are cell types, or the case level was never recorded).
 * A damaged file, or one made for other weights or classes, is an error naming it.
 */
export function readCaseLevel(runDir: string, weightsSha256: string, classNames: readonly string[]): CaseLevelRecord | null {
  const path = runPath(runDir, 'caseLevel');
  if (!existsSync(path)) return null;
  const raw = readJson(path, retrain(runDir));
  const parsed = CaseLevelSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'file'}: ${i.message}`).join('; ');
    throw new Error(`${path} is not a valid case-level record (${problems}); it was edited or damaged; ${retrain(runDir)}`);
  }
  if (parsed.data.weightsSha256 !== weightsSha256) {
    throw new Error(`${path} was made for other weights than ${RUN_FILES.bestWeights} (the cell model changed after the case level was recorded); ${retrain(runDir)}`);
  }
  if (JSON.stringify(parsed.data.caseClasses) !== JSON.stringify(classNames)) {
    throw new Error(`${path} lists case classes ${JSON.stringify(parsed.data.caseClasses)} but the run's classes are ${JSON.stringify(classNames)}; ${retrain(runDir)}`);
  }
  if (parsed.data.model && parsed.data.model.config.numClasses !== classNames.length) {
    throw new Error(`${path}: the case model has ${parsed.data.model.config.numClasses} outputs for ${classNames.length} case classes; ${retrain(runDir)}`);
  }
  return parsed.data;
}

/** The cases of a source: patient id → its label and its samples, or why the source is not case-level. */
export interface SourceCases {
  /** Patient ids in order of first appearance. */
  ids: string[];
  labelOf: Map<string, string>;
}

/**
 * A source is case-level when every sample has a patient id and every patient has exactly one
 * label: the label belongs to the patient, as a genetic subtype does. Returns the cases, or a
 * reason naming the first sample or patient that breaks the rule.
 */
export function sourceCases(samples: readonly SampleRecord[]): { cases: SourceCases } | { reason: string } {
  if (samples.length === 0) return { reason: 'it lists no images' };
  const labelOf = new Map<string, string>();
  const ids: string[] = [];
  for (const sample of samples) {
    if (sample.patientId === undefined || sample.patientId === '') return { reason: `${sample.path} has no patient_id (a case is the images of one patient)` };
    const earlier = labelOf.get(sample.patientId);
    if (earlier === undefined) {
      labelOf.set(sample.patientId, sample.label);
      ids.push(sample.patientId);
    } else if (earlier !== sample.label) {
      return { reason: `patient "${sample.patientId}" has images labelled "${earlier}" and "${sample.label}", so its labels are cell types, not the patient's` };
    }
  }
  return { cases: { ids, labelOf } };
}
