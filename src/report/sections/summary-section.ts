import { formatFixed, formatPercent } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { EvaluationSection } from '../report-input.js';

function card(label: string, value: string, sub: string): SafeHtml {
  return html`<div class="card"><div class="label">${label}</div><div class="value">${value}</div><div class="sub">${sub}</div></div>`;
}

/** The handful of numbers a reader wants before scrolling: how right, how balanced, how honest. */
export function summarySection(evaluation: EvaluationSection): SafeHtml {
  const before = evaluation.uncalibrated.images;
  const after = evaluation.calibrated?.images;
  const shown = after ?? before;
  const split = evaluation.splitName;
  const eceSub = after
    ? `before calibration ${formatPercent(before.calibration.expectedCalibrationError, 2)}`
    : 'no temperature fitted';
  const patients = (evaluation.calibrated ?? evaluation.uncalibrated).patients;
  return html`<section id="summary">
  <div class="cards">
    ${card('Accuracy', formatPercent(shown.accuracy), `${split} split, ${shown.count} images`)}
    ${card('Macro-F1', formatFixed(shown.macroF1), `balanced accuracy ${formatPercent(shown.balancedAccuracy)}`)}
    ${card('Macro ROC-AUC', formatFixed(shown.roc.macroAuc), 'one-vs-rest, mean over classes')}
    ${card('ECE', formatPercent(shown.calibration.expectedCalibrationError, 2), eceSub)}
    ${evaluation.temperatureFit ? card('Temperature', formatFixed(evaluation.temperatureFit.temperature, 3), 'fitted on validation NLL') : null}
    ${patients ? card('Patient accuracy', formatPercent(patients.accuracy), `${patients.count} patients, mean of image probabilities`) : null}
  </div>
</section>`;
}
