// Key-instance detection: does the case model's attention fall on the cells that define the case's
// class? Judged only where the cell types are known (a `cell_type` column) and the user says which
// cell types define which case class; nothing here is ever used for training.
import { rocCurve } from './roc.js';

/** Case class → the cell types that define it (e.g. left-shift → {ig}). */
export type KeyCellTypes = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Parses "left-shift=ig,erythroblastic=erythroblast" (several cell types for one class joined by
 * '+', e.g. "apl=promyelocyte+blast"). Every class named must be a case class; a class not named
 * has no key cells (e.g. "normal") and its cases are left out of the measure.
 */
export function parseKeyCellTypes(text: string, caseClasses: readonly string[]): Map<string, Set<string>> {
  const mapping = new Map<string, Set<string>>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    const caseClass = eq < 0 ? '' : part.slice(0, eq).trim();
    const types = eq < 0 ? [] : part.slice(eq + 1).split('+').map((t) => t.trim()).filter((t) => t !== '');
    if (caseClass === '' || types.length === 0) throw new Error(`key cell types: "${part}" is not CASE_CLASS=CELL_TYPE[+CELL_TYPE…] (e.g. left-shift=ig,erythroblastic=erythroblast)`);
    if (!caseClasses.includes(caseClass)) throw new Error(`key cell types: "${caseClass}" is not a case class of this run (${caseClasses.join(', ')})`);
    if (mapping.has(caseClass)) throw new Error(`key cell types: "${caseClass}" is given twice; join its cell types with '+'`);
    mapping.set(caseClass, new Set(types));
  }
  if (mapping.size === 0) throw new Error('key cell types: the mapping is empty; give e.g. left-shift=ig,erythroblastic=erythroblast');
  return mapping;
}

/** One case's cell weights and whether each cell is of a type that defines the case's class. */
export interface KeyInstanceCase {
  weights: ArrayLike<number>;
  isKey: ArrayLike<boolean>;
}

export interface KeyInstanceReport {
  /** Mean over cases of the within-case ROC-AUC of the weights for key cells (each case its own ranking). */
  meanCaseAuc: number | null;
  /** ROC-AUC over all cells of those cases, each weight times its bag's size (1 = a uniform share), so bags of different sizes compare. */
  pooledAuc: number | null;
  /** Cases with both key and other cells (the only ones a within-case AUC exists for). */
  cases: number;
  keyCells: number;
  otherCells: number;
}

export function keyInstanceAuc(cases: readonly KeyInstanceCase[]): KeyInstanceReport {
  const aucs: number[] = [];
  const scores: number[] = [];
  const positive: boolean[] = [];
  let keyCells = 0;
  let otherCells = 0;
  cases.forEach((c, i) => {
    if (c.weights.length !== c.isKey.length) throw new Error(`keyInstanceAuc: case ${i} has ${c.weights.length} weights for ${c.isKey.length} cells`);
    const roc = rocCurve(c.weights, c.isKey);
    if (roc.auc === null) return;
    aucs.push(roc.auc);
    keyCells += roc.positives;
    otherCells += roc.negatives;
    for (let k = 0; k < c.weights.length; k++) {
      scores.push(c.weights[k] * c.weights.length);
      positive.push(Boolean(c.isKey[k]));
    }
  });
  return {
    meanCaseAuc: aucs.length === 0 ? null : aucs.reduce((a, b) => a + b, 0) / aucs.length,
    pooledAuc: aucs.length === 0 ? null : rocCurve(scores, positive).auc,
    cases: aucs.length,
    keyCells,
    otherCells,
  };
}
