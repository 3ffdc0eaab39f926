import type { Rows } from './rows.js';
import { logSumExp, softmaxRows } from './softmax.js';
import { checkRows } from './validate.js';

/**
 * Temperature scaling (Guo et al., 2017): one scalar T > 0 divides every logit, fitted on the
 * validation split to minimise the negative log-likelihood. It never changes which class wins,
 * so accuracy is untouched and only the confidences move.
 */
export interface TemperatureFit {
  temperature: number;
  /** Validation NLL at T = 1 and at the fitted T. */
  nllBefore: number;
  nllAfter: number;
  iterations: number;
  /**
   * Set when the optimum lies on the edge of the search range: e.g. 'lower' when every
   * validation image is right and the NLL keeps falling as T → 0. The fit is still usable,
   * but such a validation set is too easy to calibrate on.
   */
  atBound: 'lower' | 'upper' | null;
}

/** Temperatures outside [0.01, 100] mean a broken model or a broken validation set, not calibration. */
export const TEMPERATURE_RANGE = { min: 0.01, max: 100 } as const;

interface Derivatives {
  value: number;
  gradient: number;
  curvature: number;
}

/**
 * NLL as a function of the inverse temperature s = 1/T, with its first two derivatives:
 *   f(s)   = mean_i [ logΣ_k exp(s·z_ik) − s·z_iy ]
 *   f'(s)  = mean_i [ E_p[z_i] − z_iy ]
 *   f''(s) = mean_i [ Var_p(z_i) ] ≥ 0
 * where p = softmax(s·z_i). f is convex in s, so the minimum is the one root of f'.
 */
function nllDerivatives(logits: Rows, labels: ArrayLike<number>, s: number): Derivatives {
  let value = 0;
  let gradient = 0;
  let curvature = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i];
    const lse = logSumExp(z, s);
    let mean = 0;
    let meanSquare = 0;
    for (let k = 0; k < z.length; k++) {
      const p = Math.exp(s * z[k] - lse);
      mean += p * z[k];
      meanSquare += p * z[k] * z[k];
    }
    value += lse - s * z[labels[i]];
    gradient += mean - z[labels[i]];
    curvature += Math.max(0, meanSquare - mean * mean);
  }
  return { value: value / logits.length, gradient: gradient / logits.length, curvature: curvature / logits.length };
}

/**
 * Safeguarded Newton on s inside a bracket that always holds the root of f'. A Newton step that
 * leaves the bracket is replaced by the bracket's geometric midpoint, which is bisection in
 * log T, so the search converges from any start and gives the same answer on every run.
 */
export function fitTemperature(logits: Rows, labels: ArrayLike<number>): TemperatureFit {
  checkRows(logits, labels, 'logits');
  const nllBefore = nllDerivatives(logits, labels, 1).value;
  let low = 1 / TEMPERATURE_RANGE.max;
  let high = 1 / TEMPERATURE_RANGE.min;
  const atLow = nllDerivatives(logits, labels, low);
  const atHigh = nllDerivatives(logits, labels, high);
  if (atLow.gradient === 0 && atHigh.gradient === 0) {
    // Every row's logits are equal: the NLL does not depend on T, so leave the model as it is.
    return { temperature: 1, nllBefore, nllAfter: nllBefore, iterations: 0, atBound: null };
  }
  if (atLow.gradient >= 0) return { temperature: TEMPERATURE_RANGE.max, nllBefore, nllAfter: atLow.value, iterations: 0, atBound: 'upper' };
  if (atHigh.gradient <= 0) return { temperature: TEMPERATURE_RANGE.min, nllBefore, nllAfter: atHigh.value, iterations: 0, atBound: 'lower' };

  let s = 1;
  let iterations = 0;
  for (; iterations < 200; iterations++) {
    const { gradient, curvature } = nllDerivatives(logits, labels, s);
    if (gradient === 0) break;
    if (gradient < 0) low = s;
    else high = s;
    const newton = curvature > 0 ? s - gradient / curvature : NaN;
    const next = newton > low && newton < high ? newton : Math.sqrt(low * high);
    const converged = Math.abs(next - s) <= 1e-12 * s || high - low <= 1e-12 * s;
    s = next;
    if (converged) break;
  }
  return { temperature: 1 / s, nllBefore, nllAfter: nllDerivatives(logits, labels, s).value, iterations, atBound: null };
}

/** Calibrated probabilities: softmax(logits / T). */
export function applyTemperature(logits: Rows, temperature: number): Float64Array[] {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new Error(`applyTemperature: temperature must be a finite number > 0, got ${temperature}`);
  }
  return softmaxRows(logits, temperature);
}
