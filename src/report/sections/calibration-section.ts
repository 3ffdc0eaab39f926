import { CALIBRATION_BIN_RULE, type ClassifierReport } from '../../eval/index.js';
import { reliabilityChartSpec } from '../charts/reliability-chart.js';
import { formatFixed } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { keyMetrics } from '../key-metrics.js';
import type { EvaluationSection } from '../report-input.js';
import { chartFigure } from './figure.js';

function caption(report: ClassifierReport): string {
  const { count, calibration } = report.images;
  return `Bars: accuracy of the images in each confidence bin (fainter when the bin holds few images). Red: the gap to the bin\u2019s mean confidence. Dashed: perfect calibration. Bins: ${CALIBRATION_BIN_RULE} (here ${count} images, ${calibration.bins.length} bins); the ECE above is computed on these same bins.`;
}

async function reliabilityFigure(report: ClassifierReport, title: string, label: string): Promise<SafeHtml> {
  const spec = reliabilityChartSpec(report.images.calibration, title, keyMetrics(report.images).expectedCalibrationError.text);
  return chartFigure(spec, caption(report), label);
}

export async function calibrationSection(evaluation: EvaluationSection): Promise<SafeHtml> {
  const { uncalibrated, calibrated, temperatureFit } = evaluation;
  const fit = temperatureFit;
  return html`<section id="calibration">
  <h2>Calibration</h2>
  ${fit
    ? html`<p>A single temperature <strong>T = ${formatFixed(fit.temperature, 3)}</strong> was fitted on the validation split by minimising its negative log-likelihood (${formatFixed(fit.nllBefore)} \u2192 ${formatFixed(fit.nllAfter)}). Dividing the logits by T changes no prediction, only how confident each one is${fit.temperature > 1 ? '; T > 1 means the raw model was over-confident' : fit.temperature < 1 ? '; T < 1 means the raw model was under-confident' : ''}.</p>
    ${fit.atBound ? html`<p class="notice">The fitted temperature sits on the ${fit.atBound} edge of its search range: the validation split is too ${fit.atBound === 'lower' ? 'easy (almost every image right)' : 'uninformative'} to calibrate on reliably.</p>` : null}`
    : html`<p class="empty">No temperature was fitted; probabilities are the raw softmax.</p>`}
  <div class="figures">
    ${await reliabilityFigure(uncalibrated, calibrated ? 'Before calibration (T = 1)' : 'Reliability diagram', 'reliability diagram before calibration')}
    ${calibrated ? await reliabilityFigure(calibrated, `After calibration (T = ${formatFixed(calibrated.temperature, 2)})`, 'reliability diagram after calibration') : null}
  </div>
</section>`;
}
