// Out-of-fold case calls: the case model's recipe (DEFAULT_CASE_HEADS gated-attention heads, epoch
// and temperature chosen on an inner fold) trained k times over the cases, each case called once by
// the heads that never saw it. train-case reads them to fit the case referral threshold; the case
// benchmark reads them for its cross-validated figures. The bags' embeddings come from one cell
// encoder throughout (a frozen encoder), so the folds vary the case model only.
import { stratifiedKFold } from '../data/index.js';
import { CaseModel } from '../model/index.js';
import { caseTemperature } from './case-temperature.js';
import type { CaseBag } from './train-case-cells.js';
import { CASE_HEAD_DEFAULTS, DEFAULT_CASE_HEADS, ensembleLogitsOfBags, trainCaseHeads, type CaseHeadOptions } from './train-case-head.js';

export interface OutOfFoldOptions {
  folds: number;
  /** Seed of the fold assignment. */
  foldSeed: number;
  /** The heads' seeds are headSeed, headSeed + 1, … in every fold. */
  headSeed: number;
  heads?: number;
  head?: Partial<CaseHeadOptions>;
  log?: (line: string) => void;
}

export interface OutOfFoldCalls {
  /** Case id → the held-out call's probabilities, in class order. */
  probabilities: Map<string, number[]>;
  /** Case id → the held-out call's weight per cell, in the bag's order. */
  weights: Map<string, number[]>;
}

/**
 * Every bag called once by a case model trained without it: fold k is held out, fold k + 1 chooses
 * the epochs and temperature, the rest train. Needs at least three folds and a case per fold.
 */
export function outOfFoldCaseCalls(bags: readonly CaseBag[], classNames: string[], embeddingViews: 1 | 8, options: OutOfFoldOptions): OutOfFoldCalls {
  const { folds, foldSeed, headSeed, log = () => {} } = options;
  if (!Number.isInteger(folds) || folds < 3) throw new Error(`out-of-fold case calls need at least 3 folds (one held out, one to choose the epoch, one to train), got ${folds}`);
  if (bags.length < folds) throw new Error(`out-of-fold case calls: ${bags.length} case(s) cannot fill ${folds} folds`);
  const foldOf = stratifiedKFold(bags.map((bag) => ({ key: bag.id, label: bag.label, group: bag.id })), folds, foldSeed);
  const probabilities = new Map<string, number[]>();
  const weights = new Map<string, number[]>();
  for (let k = 0; k < folds; k++) {
    const inner = (k + 1) % folds;
    const held = bags.filter((bag) => foldOf.get(bag.id) === k);
    const val = bags.filter((bag) => foldOf.get(bag.id) === inner);
    const train = bags.filter((bag) => foldOf.get(bag.id) !== k && foldOf.get(bag.id) !== inner);
    const trained = trainCaseHeads(train, val, classNames.length, { ...CASE_HEAD_DEFAULTS, ...options.head, seed: headSeed }, options.heads ?? DEFAULT_CASE_HEADS);
    const heads = trained.map((h) => h.mil);
    const { temperature } = caseTemperature(ensembleLogitsOfBags(heads, val), val.map((bag) => bag.label));
    // The same object predict and evaluate use, so the held-out calls are made exactly as theirs.
    const model = new CaseModel({ heads, classNames, temperature, encoderKind: 'frozen', encoder: null, embeddingViews, file: `cross-validation fold ${k + 1}`, sha256: '' });
    try {
      for (const bag of held) {
        const call = model.predict(bag.embeddings);
        probabilities.set(bag.id, classNames.map((name) => call.probabilities[name]));
        weights.set(bag.id, call.weights);
      }
      log(`fold seed ${foldSeed}, fold ${k + 1}/${folds}: ${train.length} train, ${val.length} val (epochs ${trained.map((h) => h.bestEpoch).join('/')}, T ${temperature.toFixed(3)}), ${held.length} held out`);
    } finally {
      model.dispose();
    }
  }
  return { probabilities, weights };
}
