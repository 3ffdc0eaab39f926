// The case calls made without a case model, from the cells' calibrated probabilities alone, as pure
// functions so training (choosing the best baseline on validation cases), evaluation and the case
// summary all compute the same thing. Each returns a probability per class that sums to 1.
import type { Rows } from './rows.js';

export type CaseBaseline = 'mean-probability' | 'mean-log-probability' | 'majority-vote';

export const CASE_BASELINES: readonly CaseBaseline[] = ['mean-probability', 'mean-log-probability', 'majority-vote'];

/**
 * The smallest probability a log is taken of: a float32 softmax can round a class to exactly 0, and
 * one such cell would then veto that class for the whole case however many cells support it.
 */
export const CASE_LOG_PROBABILITY_FLOOR = 1e-7;

export interface CaseBaselineCall {
  /** Index of the called class. */
  called: number;
  /** Case probability of every class (sums to 1). */
  probabilities: number[];
}

function checkCells(cells: Rows, classes: number): void {
  if (cells.length === 0) throw new Error('a case call needs at least one usable cell');
  cells.forEach((row, i) => {
    if (row.length !== classes) throw new Error(`cell ${i} has ${row.length} probabilities, expected ${classes}`);
    for (let k = 0; k < classes; k++) if (!Number.isFinite(row[k])) throw new Error(`cell ${i} has a non-finite probability (${row[k]}); such a cell is a failure, not part of a case`);
  });
}

function meanOf(cells: Rows, classes: number, value: (p: number) => number): number[] {
  const mean = new Array<number>(classes).fill(0);
  for (const row of cells) for (let k = 0; k < classes; k++) mean[k] += value(row[k]) / cells.length;
  return mean;
}

function firstMax(values: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < values.length; k++) if (values[k] > values[best]) best = k;
  return best;
}

/** Mean of the cells' probabilities. */
export function meanProbabilityCall(cells: Rows, classes: number): CaseBaselineCall {
  checkCells(cells, classes);
  const probabilities = meanOf(cells, classes, (p) => p);
  return { called: firstMax(probabilities), probabilities };
}

/** Geometric mean of the cells' probabilities, renormalised (= softmax of the mean log-probability). */
export function meanLogProbabilityCall(cells: Rows, classes: number): CaseBaselineCall {
  checkCells(cells, classes);
  const meanLog = meanOf(cells, classes, (p) => Math.log(Math.max(p, CASE_LOG_PROBABILITY_FLOOR)));
  const shift = Math.max(...meanLog);
  const unnormalised = meanLog.map((v) => Math.exp(v - shift));
  const total = unnormalised.reduce((a, b) => a + b, 0);
  const probabilities = unnormalised.map((v) => v / total);
  return { called: firstMax(probabilities), probabilities };
}

/** Each cell votes for its top class; a class's probability is its share of the votes; a tie goes to the tied class with the higher mean probability. */
export function majorityVoteCall(cells: Rows, classes: number): CaseBaselineCall {
  checkCells(cells, classes);
  const votes = new Array<number>(classes).fill(0);
  for (const row of cells) votes[firstMax(row)]++;
  const probabilities = votes.map((v) => v / cells.length);
  const top = Math.max(...probabilities);
  const mean = meanOf(cells, classes, (p) => p);
  let called = -1;
  for (let k = 0; k < classes; k++) if (probabilities[k] === top && (called < 0 || mean[k] > mean[called])) called = k;
  return { called, probabilities };
}

const RULES: Record<CaseBaseline, (cells: Rows, classes: number) => CaseBaselineCall> = {
  'mean-probability': meanProbabilityCall,
  'mean-log-probability': meanLogProbabilityCall,
  'majority-vote': majorityVoteCall,
};

/** The case call of one baseline over a case's cells (calibrated probability rows in class order). */
export function caseBaselineCall(baseline: CaseBaseline, cells: Rows, classes: number): CaseBaselineCall {
  const rule = RULES[baseline];
  if (!rule) throw new Error(`unknown case baseline "${baseline}"; expected one of ${CASE_BASELINES.join(', ')}`);
  return rule(cells, classes);
}
