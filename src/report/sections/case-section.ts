// The evaluated split's cases, one card each, as the case summary gives them: the call with its source
// and the truth beside it, the review flag with its reasons, the differential as a bar with counts
// (and the true differential where the labels are cell types), and the flagged share against the
// stated share. Cards wrap to one column on a phone; the bars are plain boxes, so they shrink too.
import { formatCount, formatPercent } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import type { ReportCase } from '../report-input.js';

/** Tableau 10: distinct at a glance and readable for the common colour-vision deficiencies; counts are also written out. */
const CLASS_COLOURS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const colourOf = (k: number) => CLASS_COLOURS[k % CLASS_COLOURS.length];

function differentialBar(counts: readonly number[], classNames: readonly string[], label: string): SafeHtml {
  const total = counts.reduce((a, b) => a + b, 0);
  const present = counts.flatMap((count, k) => (count > 0 ? [{ k, count }] : []));
  const text = present.map(({ k, count }) => `${classNames[k]} ${count} (${formatPercent(count / total, 0)})`).join(' · ');
  return html`<div class="differential">
    <div class="bar-label">${label}</div>
    <div class="bar" role="img" aria-label="${label}: ${text || 'no cells'}">${present.map(({ k, count }) => html`<span style="width:${((100 * count) / total).toFixed(2)}%;background:${colourOf(k)}" title="${classNames[k]} ${count}"></span>`)}</div>
    <div class="counts">${present.length === 0 ? 'no usable cells' : present.map(({ k, count }) => html`<span class="count"><i style="background:${colourOf(k)}"></i>${classNames[k]} ${count} (${formatPercent(count / total, 0)})</span>`)}</div>
  </div>`;
}

/** The call against the truth; nothing for a cell-type run's case (the section says once that its differential is the summary). */
function callLine(c: ReportCase): SafeHtml | null {
  if (!c.call) return c.usable === 0 ? html`<p class="call"><strong>No call</strong>: no usable cells</p>` : null;
  const verdict = c.truth === null ? null : c.truth === c.call.label ? html` <span class="verdict right">= truth</span>` : html` <span class="verdict wrong">truth: ${c.truth}</span>`;
  return html`<p class="call"><strong>${c.call.label} ${formatPercent(c.call.probability)}</strong>${verdict}<br><span class="source">${c.call.source}</span></p>`;
}

function caseCard(c: ReportCase, classNames: readonly string[]): SafeHtml {
  const setAside = [c.failed > 0 ? `${c.failed} unreadable` : '', c.outOfDistribution > 0 ? `${c.outOfDistribution} not like the training cells` : ''].filter(Boolean).join(', ');
  return html`<article class="case ${c.refer ? 'refer' : 'clear'}">
    <header><h3>${c.caseId}</h3><span class="flag">${c.refer ? 'refer' : 'no referral'}</span></header>
    ${callLine(c)}
    ${c.refer ? html`<ul class="reasons">${c.referReasons.map((reason) => html`<li>${reason}</li>`)}</ul>` : null}
    ${differentialBar(c.differential, classNames, c.trueDifferential ? 'predicted' : 'differential')}
    ${c.trueDifferential ? differentialBar(c.trueDifferential, classNames, 'true') : null}
    <p class="flagged">${c.flagRule === 'set-aside'
      ? `${formatCount(c.flagged)} of ${formatCount(c.cells)} images set aside for review (${formatPercent(c.flaggedShare)}; stated share ${formatPercent(c.maxFlaggedShare)})${setAside ? `: ${setAside}` : ''} · ${formatCount(c.lowConfidence)} usable cells unsure on their own (expected where labels belong to the patient; no reason to refer)${c.call ? ` · call referred below ${formatPercent(c.call.threshold)}` : ''}`
      : `${formatCount(c.flagged)} of ${formatCount(c.usable)} usable cells flagged (${formatPercent(c.flaggedShare)}; stated share ${formatPercent(c.maxFlaggedShare)})${setAside ? ` · ${setAside} set aside` : ''}`}</p>
  </article>`;
}

/** The tally a reader wants first: how many calls were right, and how many cases were referred. */
function tally(cases: readonly ReportCase[]): string {
  const referred = cases.filter((c) => c.refer).length;
  const called = cases.filter((c) => c.call && c.truth !== null);
  const right = called.filter((c) => c.call!.label === c.truth).length;
  const calls = called.length > 0 ? `${right} of ${called.length} calls agree with the truth; ` : '';
  return `${cases.length} case(s): ${calls}${referred} referred for review.`;
}

export function caseSection(cases: readonly ReportCase[], classNames: readonly string[], splitName: string): SafeHtml {
  for (const c of cases) {
    for (const counts of [c.differential, c.trueDifferential ?? classNames]) {
      if (counts.length !== classNames.length) throw new Error(`report: case "${c.caseId}" has ${counts.length} class counts for ${classNames.length} classes`);
    }
  }
  const how = cases.some((c) => c.call)
    ? 'The call comes from the case model where the run has one, else from the baseline named under it; the bar counts the usable cells per predicted class.'
    : "The run's labels are cell types, so each case is its differential: the usable cells per predicted class, above the cells per true class.";
  return html`<section id="cases">
  <h2>Cases</h2>
  <p>Every case (the images of one patient) of the ${splitName} split, summarised as predict and the web page show it. ${how} A case is referred, whatever its probability, while more of its usable cells are flagged for review than the stated share, or too few cells are usable.</p>
  <p><strong>${tally(cases)}</strong></p>
  <div class="case-grid">${cases.map((c) => caseCard(c, classNames))}</div>
</section>`;
}
