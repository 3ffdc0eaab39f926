import { readFile } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../io/index.js';
import { DataError } from './errors.js';
import { isSplitName, type SplitName } from './split-names.js';
import { stratifiedHoldout, stratifiedKFold, type SplitFractions, type SplitItem } from './stratified-split.js';

/** How to split: computed holdout fractions, one fold of k, or the manifest's own split column. */
export type SplitSpec =
  | { kind: 'holdout'; fractions: SplitFractions; seed: number }
  | { kind: 'k-fold'; folds: number; fold: number; seed: number }
  | { kind: 'manifest'; validationFromTrain?: ValidationFromTrain };

/**
 * When a manifest's split column names train (and test) rows but no val rows — a lab that keeps an
 * external cohort as its test set — the validation groups are drawn from the train rows: this share
 * of them (the default holdout's val share of train + val), stratified by class, groups whole, with
 * this seed (fixed, so the same manifest always gives the same split whatever the training seed).
 */
export interface ValidationFromTrain {
  share: number;
  seed: number;
}

export const VALIDATION_FROM_TRAIN: ValidationFromTrain = { share: 0.15 / 0.85, seed: 0 };

/**
 * split.json: which split every sample (by its dataset-relative key) is in. Written to the run
 * folder so evaluation reuses exactly this split rather than recomputing one.
 */
export interface SplitFile {
  version: 1;
  spec: SplitSpec;
  groupBy: 'patient' | 'image';
  assignments: Record<string, SplitName>;
  /** For k-fold: every sample's fold, so any other fold can be derived from the same file. */
  folds?: Record<string, number>;
}

export function computeSplit(items: SplitItem[], spec: SplitSpec, groupBy: SplitFile['groupBy'], manifestSplits?: Map<string, SplitName>): SplitFile {
  if (spec.kind === 'manifest') {
    if (!manifestSplits) throw new DataError('split', 'bad-split', 'split from the manifest was asked for, but the manifest has no split column');
    const assignments: Record<string, SplitName> = {};
    for (const item of items) {
      const split = manifestSplits.get(item.key);
      if (!split) throw new DataError(item.key, 'bad-split', 'the manifest gives splits for some rows but not this one; fill the split column on every row or on none');
      assignments[item.key] = split;
    }
    const splits = new Set(Object.values(assignments));
    if (splits.has('val') || !splits.has('train')) return { version: 1, spec: { kind: 'manifest' }, groupBy, assignments };
    const { share, seed } = VALIDATION_FROM_TRAIN;
    const drawn = stratifiedHoldout(items.filter((item) => assignments[item.key] === 'train'), { train: 1 - share, val: share, test: 0 }, seed);
    for (const [key, split] of drawn) assignments[key] = split;
    return { version: 1, spec: { kind: 'manifest', validationFromTrain: VALIDATION_FROM_TRAIN }, groupBy, assignments };
  }
  if (spec.kind === 'holdout') {
    return { version: 1, spec, groupBy, assignments: Object.fromEntries(stratifiedHoldout(items, spec.fractions, spec.seed)) };
  }
  if (!Number.isInteger(spec.fold) || spec.fold < 0 || spec.fold >= spec.folds) {
    throw new DataError('split', 'bad-split', `fold ${spec.fold} is not in 0..${spec.folds - 1}`);
  }
  const folds = Object.fromEntries(stratifiedKFold(items, spec.folds, spec.seed));
  return { version: 1, spec, groupBy, folds, assignments: foldAssignments(folds, spec.fold) };
}

/** Fold `fold` is validation, the other folds train. */
export function foldAssignments(folds: Record<string, number>, fold: number): Record<string, SplitName> {
  return Object.fromEntries(Object.entries(folds).map(([key, f]) => [key, f === fold ? 'val' : 'train']));
}

/** Throws when one group (patient) has samples in two splits: the leakage that inflates published accuracies. */
export function assertGroupsDisjoint(items: SplitItem[], assignments: Record<string, SplitName>, file = 'split'): void {
  const splitOfGroup = new Map<string, { split: SplitName; key: string }>();
  for (const item of items) {
    const split = assignments[item.key];
    if (!split) continue;
    const seen = splitOfGroup.get(item.group);
    if (!seen) splitOfGroup.set(item.group, { split, key: item.key });
    else if (seen.split !== split) {
      throw new DataError(
        file,
        'patient-in-two-splits',
        `${item.group} has ${seen.key} in ${seen.split} and ${item.key} in ${split}; all of one patient's images must be in one split`,
      );
    }
  }
}

export async function saveSplitFile(path: string, split: SplitFile): Promise<void> {
  await writeFileAtomicAsync(path, `${JSON.stringify(split, null, 1)}\n`);
}

export async function loadSplitFile(path: string): Promise<SplitFile> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<SplitFile>;
  if (parsed.version !== 1 || !parsed.spec || !parsed.assignments || typeof parsed.assignments !== 'object') {
    throw new DataError(path, 'bad-split', 'not a split.json written by aplnet (version 1)');
  }
  for (const [key, split] of Object.entries(parsed.assignments)) {
    if (!isSplitName(split)) throw new DataError(path, 'bad-split', `"${key}" is assigned to "${String(split)}"`);
  }
  return parsed as SplitFile;
}

/** The split of every item from a saved file; items the file does not know mean the dataset changed since. */
export function assignmentsFor(items: SplitItem[], split: SplitFile, file = 'split.json'): Record<string, SplitName> {
  const missing = items.filter((item) => !(item.key in split.assignments));
  if (missing.length > 0) {
    throw new DataError(file, 'bad-split', `${missing.length} images are not in this split (e.g. ${missing[0].key}); the dataset changed since the split was made`);
  }
  return split.assignments;
}
