import type { MetricsReport } from '../../eval/index.js';
import { confusionMatrixChartSpec } from '../charts/confusion-matrix-chart.js';
import { rocChartSpec } from '../charts/roc-chart.js';
import { describeIntervals, formatFixed, formatPercent, formatWithInterval } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { keyMetrics } from '../key-metrics.js';
import type { EvaluationSection } from '../report-input.js';
import { chartFigure, scrollingTable } from './figure.js';

type Column = { title: string; metrics: MetricsReport };

const ROWS: Array<{ label: string; value: (m: MetricsReport) => string }> = [
  { label: 'count', value: (m) => String(m.count) },
  { label: 'accuracy', value: (m) => keyMetrics(m).accuracy.text },
  { label: 'balanced accuracy', value: (m) => keyMetrics(m).balancedAccuracy.text },
  { label: 'macro-F1', value: (m) => keyMetrics(m).macroF1.text },
  { label: 'weighted F1', value: (m) => formatFixed(m.weightedF1) },
  { label: 'macro ROC-AUC (one-vs-rest)', value: (m) => keyMetrics(m).macroAuc.text },
  { label: 'expected calibration error', value: (m) => keyMetrics(m).expectedCalibrationError.text },
  { label: 'negative log-likelihood', value: (m) => formatFixed(m.negativeLogLikelihood) },
  { label: 'Brier score', value: (m) => formatFixed(m.brierScore) },
  { label: 'referred to specialist', value: (m) => (m.referral ? `${m.referral.referred} (threshold ${m.referral.threshold})` : '—') },
  { label: 'accuracy on images kept', value: (m) => (m.referral ? formatPercent(m.referral.accuracyOnKept) : '—') },
];

function summaryColumns(evaluation: EvaluationSection): Column[] {
  const { uncalibrated, calibrated } = evaluation;
  const columns: Column[] = [{ title: calibrated ? 'images, before calibration' : 'images', metrics: uncalibrated.images }];
  if (calibrated) columns.push({ title: 'images, after calibration', metrics: calibrated.images });
  if (uncalibrated.patients) columns.push({ title: calibrated ? 'patients, before' : 'patients', metrics: uncalibrated.patients });
  if (calibrated?.patients) columns.push({ title: 'patients, after', metrics: calibrated.patients });
  return columns;
}

/** Recall under this value is flagged in the per-class table: a class the model often misses. */
const LOW_RECALL = 0.8;

function perClassTable(metrics: MetricsReport): SafeHtml {
  const intervals = metrics.intervals;
  const withInterval = (k: number, field: 'recall' | 'f1') => formatWithInterval(metrics.perClass[k][field], intervals?.perClass[k][field], intervals?.level, 'fixed');
  return scrollingTable(html`<table>
    <thead><tr><th>class</th><th>support</th><th>precision</th><th>recall</th><th>F1</th><th>ROC-AUC</th></tr></thead>
    <tbody>${metrics.perClass.map((m, k) => html`<tr>
      <td>${m.className}</td><td>${m.support}</td><td>${formatFixed(m.precision)}</td>
      <td${m.recall < LOW_RECALL ? html` class="low"` : null}>${withInterval(k, 'recall')}</td>
      <td>${withInterval(k, 'f1')}</td><td>${formatFixed(metrics.roc.perClass[k].auc)}</td></tr>`)}
      <tr class="total"><td>macro average</td><td>${metrics.count}</td>
      <td>${formatFixed(metrics.perClass.reduce((s, m) => s + m.precision, 0) / metrics.perClass.length)}</td>
      <td>${formatFixed(metrics.perClass.reduce((s, m) => s + m.recall, 0) / metrics.perClass.length)}</td>
      <td>${keyMetrics(metrics).macroF1.text}</td><td>${formatFixed(metrics.roc.macroAuc)}</td></tr>
    </tbody>
  </table>`);
}

/**
 * Calibration changes no prediction, so precision, recall, F1 and the confusion matrix are the
 * same before and after; ROC-AUC can shift slightly, and the calibrated one is what predict uses.
 */
export async function metricsSection(evaluation: EvaluationSection): Promise<SafeHtml> {
  const final = evaluation.calibrated ?? evaluation.uncalibrated;
  const columns = summaryColumns(evaluation);
  const split = evaluation.splitName;
  return html`<section id="metrics">
  <h2>Results on the ${split} split</h2>
  ${scrollingTable(html`<table>
    <thead><tr><th>metric</th>${columns.map((c) => html`<th>${c.title}</th>`)}</tr></thead>
    <tbody>${ROWS.map((row) => html`<tr><td>${row.label}</td>${columns.map((c) => html`<td>${row.value(c.metrics)}</td>`)}</tr>`)}</tbody>
  </table>`)}
  ${final.images.intervals ? html`<p class="meta">${describeIntervals(final.images.intervals)}${final.patients ? '; patient-level intervals resample the patients' : ''}. A class with few images has a wide interval.</p>` : null}
  ${final.patients ? html`<p class="meta">Patient-level numbers use the mean of each patient's image probabilities.</p>` : null}
  <h3>Per class</h3>
  ${perClassTable(final.images)}
  <div class="figures">
    ${await chartFigure(
      confusionMatrixChartSpec(final.images.confusionMatrix, final.classNames, 'Confusion matrix'),
      'Rows are the true class, columns the prediction; numbers are image counts, colour is the share of the true class.',
      'confusion matrix',
    )}
    ${await chartFigure(
      rocChartSpec(final.images.roc, 'ROC curves, one class vs the rest'),
      'Each class\u2019s probability ranked against all other images; tied scores are drawn as diagonal steps.',
      'ROC curves',
    )}
  </div>
  ${final.patients ? html`<h3>Per class, patient level</h3>${perClassTable(final.patients)}` : null}
</section>`;
}
