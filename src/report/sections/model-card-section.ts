import type { MetricsReport } from '../../eval/index.js';
import { describeIntervals } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { cardMetrics } from '../key-metrics.js';
import type { ReportInput } from '../report-input.js';

/**
 * A model card after Mitchell et al. (2019), kept short. The standard limitations are written
 * here once so that no report goes out without them; users add their own on top.
 */
function standardLimitations(input: ReportInput): string[] {
  const limitations = [
    'Performance was measured only on images like those listed under Data (same sources, stain, scanner and magnification). It is unknown on images from another laboratory until validated there.',
    input.modelCard.oodCheck
      ? `The model answers with one of its ${input.dataset.classNames.length} classes. Its out-of-distribution check sets aside images unlike its training images (it flags ${(input.modelCard.oodCheck.validationFlagged * 100).toFixed(1)}% of the validation images), but an image of something it never saw that resembles them (another cell type, say) still gets one of these classes.`
      : `The model always answers with one of its ${input.dataset.classNames.length} classes, even for an image of something it never saw (another cell type, debris, an artefact); out-of-distribution images are not detected.`,
    'The metrics are estimates from one finite test split; classes with few images have wide uncertainty.',
    'Attention overlays show where the model looked, not a reason or a morphological finding.',
    'Calibration was fitted on the validation split and may not hold when the image source changes.',
  ];
  if (!input.dataset.patientsBySplit) {
    limitations.push('The data has no patient ids, so splits are by image: images of one patient may sit in both training and test, which can make the test numbers optimistic.');
  }
  return limitations;
}

/** One line per card metric, e.g. "accuracy 96.4% (95% CI 94.9–97.6)". */
function metricsList(metrics: MetricsReport): SafeHtml {
  return html`<ul>${cardMetrics(metrics).map((m) => html`<li>${m.label} ${m.text}</li>`)}</ul>`;
}

export function modelCardSection(input: ReportInput): SafeHtml {
  const { dataset, evaluation, modelCard } = input;
  const report = evaluation.calibrated ?? evaluation.uncalibrated;
  const final = report.images;
  const limitations = [...standardLimitations(input), ...(modelCard.limitations ?? [])];
  const threshold = final.referral?.threshold;
  return html`<section id="model-card" class="model-card">
  <h2>Model card</h2>
  <dl>
    <dt>Model</dt>
    <dd>${modelCard.modelName}: a convolutional network of ResNet blocks with a spatial attention module, trained by aplnet (run ${input.runName}).</dd>
    <dt>Intended use</dt>
    <dd>Research, and decision support for trained haematology staff reviewing smear images. It is <strong>not a diagnosis</strong> and must not be the sole basis of any clinical decision; every result is to be confirmed by a specialist with the methods the laboratory uses for diagnosis (e.g. cytogenetics, molecular testing).</dd>
${modelCard.framing ? html`    <dt>Input</dt>
    <dd>${modelCard.framing}.</dd>
` : null}    <dt>Output</dt>
    <dd>Calibrated probabilities over the classes below${threshold !== undefined ? html`; an image whose top probability is under ${threshold} is flagged \u201crefer to a specialist\u201d instead of being labelled` : null}.</dd>
    <dt>Classes</dt>
    <dd>${dataset.classNames.join(', ')}. The class names come from the training data (its folder names or manifest labels), not from a fixed taxonomy: the model knows exactly these classes and no others.</dd>
    <dt>Data</dt>
    <dd>${dataset.name}${dataset.credits && dataset.credits.length > 0 ? html`; source: ${dataset.credits.map((c) => c.citation).join('; ')}` : null}. See the Dataset section for counts per split.</dd>
    <dt>Metrics</dt>
    <dd>On the ${evaluation.splitName} split, ${final.count} images${evaluation.calibrated ? ', calibrated' : ''}:${metricsList(final)}${
      report.patients ? html`Per patient (${report.patients.count} patients, mean of image probabilities):${metricsList(report.patients)}` : null}${
      final.intervals ? html`<span class="meta">${describeIntervals(final.intervals)}.</span>` : null}</dd>
    <dt>Limitations</dt>
    <dd><ul>${limitations.map((l) => html`<li>${l}</li>`)}</ul></dd>
  </dl>
</section>`;
}
