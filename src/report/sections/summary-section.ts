import { formatFixed, formatInterval, formatPercent, type MetricScale } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { keyMetrics, type KeyMetric } from '../key-metrics.js';
import type { EvaluationSection } from '../report-input.js';

function card(label: string, value: string, sub: string): SafeHtml {
  return html`<div class="card"><div class="label">${label}</div><div class="value">${value}</div><div class="sub">${sub}</div></div>`;
}

/** "95% CI 91.4–96.1" under a card's big number. */
function intervalLine(metric: KeyMetric, level: number | undefined, scale: MetricScale, digits?: number): string {
  return metric.interval && level !== undefined ? formatInterval(metric.interval, level, scale, digits) : '';
}

/** The handful of numbers a reader wants before scrolling: how right, how balanced, how honest, and how sure. */
export function summarySection(evaluation: EvaluationSection): SafeHtml {
  const before = evaluation.uncalibrated.images;
  const after = evaluation.calibrated?.images;
  const shown = after ?? before;
  const key = keyMetrics(shown);
  const level = shown.intervals?.level;
  const split = evaluation.splitName;
  const eceSub = after ? `before calibration ${formatPercent(before.calibration.expectedCalibrationError, 2)}` : 'no temperature fitted';
  const patients = (evaluation.calibrated ?? evaluation.uncalibrated).patients;
  const lines = (...parts: string[]) => parts.filter(Boolean).join(' · ');
  return html`<section id="summary">
  <div class="cards">
    ${card('Accuracy', formatPercent(shown.accuracy), lines(intervalLine(key.accuracy, level, 'percent'), `${split} split, ${shown.count} images`))}
    ${card('Macro-F1', formatFixed(shown.macroF1), lines(intervalLine(key.macroF1, level, 'fixed'), `balanced accuracy ${formatPercent(shown.balancedAccuracy)}`))}
    ${card('Macro ROC-AUC', formatFixed(shown.roc.macroAuc), lines(intervalLine(key.macroAuc, level, 'fixed'), 'one-vs-rest, mean over classes'))}
    ${card('ECE', formatPercent(shown.calibration.expectedCalibrationError, 2), lines(intervalLine(key.expectedCalibrationError, level, 'percent', 2), eceSub))}
    ${evaluation.temperatureFit ? card('Temperature', formatFixed(evaluation.temperatureFit.temperature, 3), 'fitted on validation NLL') : null}
    ${patients ? card('Patient accuracy', formatPercent(patients.accuracy), lines(intervalLine(keyMetrics(patients).accuracy, patients.intervals?.level, 'percent'), `${patients.count} patients, mean of image probabilities`)) : null}
  </div>
</section>`;
}
