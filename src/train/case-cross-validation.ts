// The case model's recipe (DEFAULT_CASE_HEADS gated-attention heads, epochs chosen on an inner fold)
// trained k times over the cases, each case held out once: the folds train-case keeps as its case
// model (the mean of every fold's heads), whose out-of-fold calls fit its temperature and referral
// threshold, and that the case benchmark cross-validates. The bags' embeddings come from one cell
// encoder throughout (a frozen encoder), so the folds vary the case model only.
import { stratifiedKFold } from '../data/index.js';
import { CaseModel } from '../model/index.js';
import { caseTemperature } from './case-temperature.js';
import type { CaseBag } from './train-case-cells.js';
import { CASE_HEAD_DEFAULTS, DEFAULT_CASE_HEADS, ensembleLogitsOfBags, trainCaseHeads, type CaseHeadOptions, type TrainedCaseHead } from './train-case-head.js';

export interface CaseFoldOptions {
  folds: number;
  /** Seed of the fold assignment. */
  foldSeed: number;
  /** The heads' seeds are headSeed, headSeed + 1, … in every fold. */
  headSeed: number;
  /** Heads per fold (default DEFAULT_CASE_HEADS). */
  heads?: number;
  head?: Partial<CaseHeadOptions>;
  log?: (line: string) => void;
}

export interface CaseFold {
  /** The cases held out (called by this fold's heads only), chosen on (the epochs), and trained on. */
  held: CaseBag[];
  val: CaseBag[];
  train: CaseBag[];
  heads: TrainedCaseHead[];
}

/**
 * Trains the folds: fold k is held out, fold k + 1 chooses each head's epoch, the rest train. Needs
 * at least three folds and a case per fold. The caller owns the heads (disposeFolds).
 */
export function trainCaseFolds(bags: readonly CaseBag[], numClasses: number, options: CaseFoldOptions): CaseFold[] {
  const { folds, foldSeed, headSeed, log = () => {} } = options;
  if (!Number.isInteger(folds) || folds < 3) throw new Error(`a cross-validated case model needs at least 3 folds (one held out, one to choose the epoch, one to train), got ${folds}`);
  if (bags.length < folds) throw new Error(`${bags.length} case(s) cannot fill ${folds} folds`);
  const foldOf = stratifiedKFold(bags.map((bag) => ({ key: bag.id, label: bag.label, group: bag.id })), folds, foldSeed);
  const trained: CaseFold[] = [];
  try {
    for (let k = 0; k < folds; k++) {
      const inner = (k + 1) % folds;
      const held = bags.filter((bag) => foldOf.get(bag.id) === k);
      const val = bags.filter((bag) => foldOf.get(bag.id) === inner);
      const train = bags.filter((bag) => foldOf.get(bag.id) !== k && foldOf.get(bag.id) !== inner);
      const heads = trainCaseHeads(train, val, numClasses, { ...CASE_HEAD_DEFAULTS, ...options.head, seed: headSeed }, options.heads ?? DEFAULT_CASE_HEADS);
      trained.push({ held, val, train, heads });
      log(`fold seed ${foldSeed}, fold ${k + 1}/${folds}: ${train.length} train, ${val.length} val (epochs ${heads.map((h) => h.bestEpoch).join('/')}), ${held.length} held out`);
    }
    return trained;
  } catch (err) {
    disposeFolds(trained);
    throw err;
  }
}

export function disposeFolds(folds: readonly CaseFold[]): void {
  for (const fold of folds) for (const head of fold.heads) head.mil.dispose();
}

/** Case id → the uncalibrated logits of its held-out call (the log of the mean of its fold's heads' probabilities). */
export function outOfFoldLogits(folds: readonly CaseFold[]): Map<string, number[]> {
  const logits = new Map<string, number[]>();
  for (const fold of folds) {
    const rows = ensembleLogitsOfBags(fold.heads.map((h) => h.mil), fold.held);
    fold.held.forEach((bag, i) => logits.set(bag.id, rows[i]));
  }
  return logits;
}

export interface OutOfFoldCalls {
  /** Case id → the held-out call's probabilities, in class order. */
  probabilities: Map<string, number[]>;
  /** Case id → the held-out call's weight per cell, in the bag's order. */
  weights: Map<string, number[]>;
}

/**
 * Every bag called once by a case model trained without it, each fold's model with its own
 * temperature fitted on its inner fold: the cross-validation of the recipe train-case uses on one
 * split (bench cases).
 */
export function outOfFoldCaseCalls(bags: readonly CaseBag[], classNames: string[], embeddingViews: 1 | 8, options: CaseFoldOptions): OutOfFoldCalls {
  const folds = trainCaseFolds(bags, classNames.length, options);
  const probabilities = new Map<string, number[]>();
  const weights = new Map<string, number[]>();
  try {
    folds.forEach((fold, k) => {
      const heads = fold.heads.map((h) => h.mil);
      const { temperature } = caseTemperature(ensembleLogitsOfBags(heads, fold.val), fold.val.map((bag) => bag.label));
      // The same object predict and evaluate use, so the held-out calls are made exactly as theirs.
      const model = new CaseModel({ heads, classNames, temperature, encoderKind: 'frozen', encoder: null, embeddingViews, file: `cross-validation fold ${k + 1}`, sha256: '' });
      for (const bag of fold.held) {
        const call = model.predict(bag.embeddings);
        probabilities.set(bag.id, classNames.map((name) => call.probabilities[name]));
        weights.set(bag.id, call.weights);
      }
    });
    return { probabilities, weights };
  } finally {
    disposeFolds(folds);
  }
}
