// "Export case (HTML)": one self-contained file (images inline, no script, nothing fetched) with the
// case summary, the differential counted by the model and after review, and every cell with the
// original beside the same image under its map, grouped as on the review screen.
import { DEFAULT_FLOOR, legendGradientCss } from '../explain/index.js';
import { flaggedText, lowConfidenceNote } from '../run/index.js';
import type { CaseStore, OpenCase } from './case-store.js';
import type { CaseView, CellView, ReviewGroup } from './case-view.js';
import type { OverlayMethod } from './protocol.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (p: number): string => `${(p * 100).toFixed(1)}%`;
const dataUrl = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

export const GROUP_TITLES: Record<Exclude<ReviewGroup, 'class'>, string> = {
  'low-confidence': 'Low confidence: review each',
  'out-of-distribution': 'Not like the training cells: set aside, not counted',
  unreadable: 'Could not be read',
};

const SOURCE_NAMES: Record<string, string> = {
  'case-model': 'the case model (attention over the cells)',
  'mean-probability': 'the mean of the cells\' probabilities',
  'mean-log-probability': 'the mean of the cells\' log-probabilities',
  'majority-vote': 'a majority vote of the cells',
};

export interface HtmlExportOptions {
  overlay: OverlayMethod | 'none';
  opacity: number;
  now?: Date;
}

function summaryHtml(view: CaseView): string {
  const s = view.summary;
  const flag = s.refer
    ? `<p class="flag refer">⚠ Refer: review this case</p><ul>${s.referReasons.map((r) => `<li>${escapeHtml(r)}</li>`).join('')}</ul>`
    : '<p class="flag ok">No referral rule triggered</p>';
  const call = s.call
    ? `<h2>Case call: ${escapeHtml(s.call.label)} ${pct(s.call.probability)}</h2><p class="muted">From ${escapeHtml(SOURCE_NAMES[s.call.source] ?? s.call.source)}.</p>`
    : '<h2>Differential only</h2><p class="muted">This model classifies cell types: it makes no case diagnosis. The differential below is its count.</p>';
  const counts = `<p>${s.cells} image(s): ${s.usable} usable, ${s.outOfDistribution} set aside as unlike the training cells, ${s.failed} unreadable. Flagged: ${escapeHtml(flaggedText(s))}; the stated maximum is ${pct(s.maxFlaggedShare)}.${lowConfidenceNote(s) ? ` ${escapeHtml(lowConfidenceNote(s)!)}.` : ''}${s.call ? ` The call is referred below ${pct(s.call.threshold)}: ${escapeHtml(s.call.thresholdSource)}.` : ''}</p>`;
  const rows = view.reviewed.rows.filter((r) => r.modelCount > 0 || r.reviewedCount > 0 || view.classes.includes(r.className))
    .map((r) => `<tr><th>${escapeHtml(r.className)}</th><td>${r.modelCount}</td><td>${r.modelPercent.toFixed(1)}%</td><td>${r.reviewedCount}</td><td>${r.reviewedPercent.toFixed(1)}%</td></tr>`).join('');
  const table = `<table class="diff"><thead><tr><th>Class</th><th>Model</th><th>%</th><th>Reviewed</th><th>%</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Reviewed: ${view.reviewed.reviewed} cell(s), ${view.reviewed.reviewed - view.reviewed.reclassified} confirmed, ${view.reviewed.reclassified} reclassified (${view.reviewed.notACell} as not a cell). Unreviewed cells count under the model's call; cells set aside count only once reviewed.</p>`;
  return `${call}${flag}${counts}${table}`;
}

function cellHtml(openCase: OpenCase, store: CaseStore, cell: CellView, options: HtmlExportOptions, withCall: boolean): string {
  const stored = store.cell(openCase, cell.index);
  const title = `<h4>${escapeHtml(cell.file)}</h4>`;
  if (!stored.inputPng) return `<section class="cell">${title}<p class="refer">${escapeHtml(cell.message ?? 'unreadable')}</p></section>`;
  const map = options.overlay === 'none' ? undefined : stored.heatmaps[options.overlay];
  const overlaid = map
    ? `<div class="stack"><img src="${dataUrl(stored.inputPng)}" alt=""><img src="${dataUrl(map)}" alt="${escapeHtml(cell.file)}, ${escapeHtml(options.overlay)} map" style="opacity:${options.opacity}"></div>`
    : '<div class="stack none">no map</div>';
  const review = cell.review
    ? `<p><b>Reviewer: ${escapeHtml(cell.review.className)}</b>${cell.review.className === cell.predicted ? ' (confirmed)' : ' (reclassified)'}</p>`
    : '<p class="muted">Not reviewed</p>';
  const ood = cell.ood ? `<p class="muted">OOD score ${cell.ood.score.toFixed(2)} (threshold ${cell.ood.threshold.toFixed(2)})${cell.ood.flagged ? ' <b>set aside</b>' : ''}</p>` : '';
  return `<section class="cell">${title}<div class="pair"><img src="${dataUrl(stored.inputPng)}" alt="${escapeHtml(cell.file)}, original">${overlaid}</div>
<p>Model: <b>${escapeHtml(cell.predicted ?? '')}</b> ${pct(cell.confidence ?? 0)}${cell.refer ? ' <span class="refer">low confidence</span>' : ''}${cell.rank && withCall ? ` · weight #${cell.rank} in the call` : ''}</p>${ood}${review}</section>`;
}

export function caseExportHtml(view: CaseView, openCase: OpenCase, store: CaseStore, options: HtmlExportOptions): string {
  const now = options.now ?? new Date();
  const groups: [string, CellView[]][] = [
    ...view.classes.map((name): [string, CellView[]] => [name, view.cells.filter((c) => c.group === 'class' && c.predicted === name)]),
    ...(Object.keys(GROUP_TITLES) as (keyof typeof GROUP_TITLES)[]).map((group): [string, CellView[]] => [GROUP_TITLES[group], view.cells.filter((c) => c.group === group)]),
  ];
  const gallery = groups.filter(([, cells]) => cells.length > 0)
    .map(([title, cells]) => `<h3>${escapeHtml(title)} (${cells.length})</h3>${cells.map((c) => cellHtml(openCase, store, c, options, view.summary.call !== null)).join('\n')}`).join('\n');
  const legend = options.overlay === 'none' ? '' : `<p class="legend"><b>${escapeHtml(options.overlay)}</b> map, drawn at ${Math.round(options.opacity * 100)}%: 0 low <span class="scale" style="background:${legendGradientCss()}, #fff"></span> 1 high (clear below ${DEFAULT_FLOOR})</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>aplnet case ${escapeHtml(view.caseId)}</title>
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:1100px;margin:1rem auto;padding:0 1rem;color:#1b1f24}
.muted{color:#5b6470}.refer{color:#a33b00;font-weight:700}.flag{display:inline-block;padding:.2rem .6rem;border-radius:4px;font-weight:700}
.flag.refer{background:#fff1e6;border:1px solid #a33b00}.flag.ok{border:1px solid #5b6470;color:#1b1f24}
table.diff{border-collapse:collapse}table.diff th,table.diff td{padding:.15rem .6rem;border-bottom:1px solid #d8dde3;text-align:right}table.diff th:first-child{text-align:left}
.cell{display:inline-block;vertical-align:top;width:310px;margin:0 .8rem .8rem 0;border:1px solid #d8dde3;border-radius:6px;padding:.4rem}
.cell h4{margin:0 0 .3rem;font-size:.9rem;overflow-wrap:anywhere}.cell p{margin:.2rem 0;font-size:.9rem}
.pair{display:flex;gap:4px}.pair>img,.stack{width:148px;height:148px}.stack{position:relative}.stack img{position:absolute;inset:0;width:100%;height:100%}
.stack.none{display:flex;align-items:center;justify-content:center;background:#eceff3;color:#5b6470}
.legend{display:flex;align-items:center;gap:.4rem}.scale{display:inline-block;width:160px;height:12px;border:1px solid #8a94a0}</style></head>
<body><h1>aplnet case ${escapeHtml(view.caseId)}</h1>
<p class="muted">Model ${escapeHtml(view.model)} · exported ${escapeHtml(now.toISOString())} · research and decision support, not a diagnosis</p>
${summaryHtml(view)}
${legend}
${gallery}
</body></html>`;
}
