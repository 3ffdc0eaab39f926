import { accuracyCurveSpec, learningRateSpec, lossCurveSpec } from '../charts/training-curves-chart.js';
import { html, type SafeHtml } from '../html.js';
import type { TrainingCurveRow } from '../report-input.js';
import { chartFigure } from './figure.js';

export async function trainingSection(rows: readonly TrainingCurveRow[]): Promise<SafeHtml> {
  if (rows.length === 0) {
    return html`<section id="training"><h2>Training</h2><p class="empty">No training curves were recorded for this run.</p></section>`;
  }
  const best = rows.reduce<TrainingCurveRow | null>((b, r) => (r.val_macro_f1 !== null && (b === null || r.val_macro_f1 > (b.val_macro_f1 ?? -1)) ? r : b), null);
  return html`<section id="training">
  <h2>Training</h2>
  <p>${rows.length} epochs${best ? html`; best validation macro-F1 ${best.val_macro_f1?.toFixed(3)} at epoch ${best.epoch}` : null}.</p>
  <div class="figures">
    ${await chartFigure(lossCurveSpec(rows), 'Cross-entropy on the training and validation splits.', 'loss curves')}
    ${await chartFigure(accuracyCurveSpec(rows), 'Validation macro-F1 drives early stopping and the best checkpoint.', 'accuracy curves')}
    ${await chartFigure(learningRateSpec(rows), 'Learning-rate schedule as applied.', 'learning rate')}
  </div>
</section>`;
}
