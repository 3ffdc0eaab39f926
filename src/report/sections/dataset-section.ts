import { formatCount } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { DatasetSummary } from '../report-input.js';
import { scrollingTable } from './figure.js';

export function datasetSection(dataset: DatasetSummary): SafeHtml {
  const splits = Object.keys(dataset.countsBySplit);
  for (const split of splits) {
    if (dataset.countsBySplit[split].length !== dataset.classNames.length) {
      throw new Error(`report: dataset split "${split}" has ${dataset.countsBySplit[split].length} class counts for ${dataset.classNames.length} classes`);
    }
  }
  const splitTotal = (split: string) => dataset.countsBySplit[split].reduce((a, b) => a + b, 0);
  const classTotal = (k: number) => splits.reduce((sum, split) => sum + dataset.countsBySplit[split][k], 0);
  const grandTotal = splits.reduce((sum, split) => sum + splitTotal(split), 0);
  const patients = dataset.patientsBySplit;
  return html`<section id="dataset">
  <h2>Dataset</h2>
  <p><strong>${dataset.name}</strong>: ${dataset.classNames.length} classes, ${formatCount(grandTotal)} images${
    patients ? html`, ${formatCount(Object.values(patients).reduce((a, b) => a + b, 0))} patients (splits are by patient)` : html`, no patient ids (splits are by image)`
  }.</p>
  ${scrollingTable(html`<table>
    <thead><tr><th>class</th>${splits.map((s) => html`<th>${s}</th>`)}<th>total</th></tr></thead>
    <tbody>
      ${dataset.classNames.map((name, k) => html`<tr><td>${name}</td>${splits.map((s) => html`<td>${formatCount(dataset.countsBySplit[s][k])}</td>`)}<td>${formatCount(classTotal(k))}</td></tr>`)}
      <tr class="total"><td>all images</td>${splits.map((s) => html`<td>${formatCount(splitTotal(s))}</td>`)}<td>${formatCount(grandTotal)}</td></tr>
      ${patients ? html`<tr><td>patients</td>${splits.map((s) => html`<td>${patients[s] === undefined ? '—' : formatCount(patients[s])}</td>`)}<td>${formatCount(Object.values(patients).reduce((a, b) => a + b, 0))}</td></tr>` : null}
    </tbody>
  </table>`)}
  ${dataset.credits && dataset.credits.length > 0 ? html`<h3>Data sources</h3><ul class="credits">${dataset.credits.map((c) => html`<li>${c.citation}${c.doi ? html` doi:${c.doi}` : null}${c.license ? html` (${c.license})` : null}</li>`)}</ul>` : null}
</section>`;
}
