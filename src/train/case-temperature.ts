// The case model's softmax temperature, fitted on the validation cases, softening only: a few dozen
// cases cannot justify making the case call surer than the model is.
import { fitTemperature } from '../eval/index.js';

/**
 * The case model's temperature, fitted on the validation cases (or on other held-out calls, named
 * by `calls`: a cross-validated case model's out-of-fold calls). When those cases are separated
 * without error the log-loss falls all the way to the smallest temperature allowed, which would
 * only make the model surer than a few dozen cases can show: then T stays 1, and the record says why.
 */
export function caseTemperature(valLogits: number[][], labels: number[], calls: { name: string; short: string } = { name: 'validation cases', short: 'val' }): { temperature: number; fittedOn: string } {
  if (valLogits.length === 0) return { temperature: 1, fittedOn: `none: no ${calls.name}` };
  const fit = fitTemperature(valLogits, labels);
  if (fit.atBound === 'lower') return { temperature: 1, fittedOn: `none: the ${labels.length} ${calls.name} are separated without error, so the fit only sharpens without bound; kept at 1` };
  // Fail closed: a handful of validation cases cannot justify making the case model MORE confident
  // than it is (a fold of 18 cases fitted T = 0.012, i.e. logits × 83). Only softening is applied.
  if (fit.temperature < 1) return { temperature: 1, fittedOn: `none: the ${labels.length} ${calls.name} asked for T = ${fit.temperature.toFixed(3)} < 1, which would sharpen the case call; only softening is applied, so kept at 1` };
  return { temperature: fit.temperature, fittedOn: `${calls.short} (${labels.length} cases; log-loss ${fit.nllBefore.toFixed(4)} → ${fit.nllAfter.toFixed(4)})` };
}
