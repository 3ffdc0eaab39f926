// One cell up close: the original beside the same image under its map (as the CLI's panel draws
// them), the probability of every class, what the case makes of it, and the reviewer's choice.
import { $, el, pct } from './dom.js';
import { reviewName, reviewSelect } from './gallery.js';

function bars(probabilities, label) {
  const entries = Object.entries(probabilities);
  const top = Math.max(...entries.map(([, p]) => p));
  const list = el('ul', { class: 'bars', 'aria-label': label });
  for (const [name, p] of entries) {
    const fill = el('div', { class: 'fill' });
    fill.style.width = pct(p);
    list.append(el('li', { class: p === top ? 'top' : '' }, el('span', { class: 'name', text: name, title: name }), el('div', { class: 'track', 'aria-hidden': 'true' }, fill), el('span', { class: 'value', text: pct(p) })));
  }
  return list;
}

function pair(cell, { overlay, opacity }) {
  const src = overlay === 'none' ? null : cell.images.maps[overlay];
  const heatmap = el('img', { class: 'heatmap', alt: '' });
  heatmap.hidden = !src;
  if (src) heatmap.src = src;
  heatmap.style.opacity = String(opacity);
  return el('div', { class: 'pair' },
    el('figure', { class: 'view original' }, el('div', { class: 'stack' }, el('img', { src: cell.images.input, alt: `${cell.file} as the model saw it` })), el('figcaption', { text: 'original' })),
    el('figure', { class: 'view overlaid' }, el('div', { class: 'stack' }, el('img', { src: cell.images.input, alt: '' }), heatmap),
      el('figcaption', { class: 'overlay-caption', text: src ? `${overlay} ${Math.round(opacity * 100)}%` : 'no map' })));
}

export function openCellDialog(cell, view, settings, onReview) {
  $('cell-title').textContent = cell.file;
  const facts = [
    `Model: ${cell.predicted} ${pct(cell.confidence)}${cell.refer ? ' — low confidence, review' : ''}`,
    cell.ood ? `Out-of-distribution score ${cell.ood.score.toFixed(2)} (threshold ${cell.ood.threshold.toFixed(2)})${cell.ood.flagged ? ': set aside, not counted' : ''}` : null,
    cell.rank && view.summary.call ? `Weight in the case call ${cell.weight.toFixed(3)} (#${cell.rank} of ${view.summary.ranked.length})` : null,
    cell.review ? `Reviewer: ${reviewName(cell.review.className)} (${new Date(cell.review.reviewedAt).toLocaleString()})` : 'Not reviewed yet',
    cell.notes.length ? `Converted: ${cell.notes.join(', ')}` : null,
  ].filter(Boolean);
  $('cell-body').replaceChildren(
    pair(cell, settings),
    el('ul', { class: 'facts' }, ...facts.map((text) => el('li', { text }))),
    bars(cell.probabilities, `Probability of each class for ${cell.file}`),
    el('label', { class: 'review-row' }, 'Reviewer\'s class ', reviewSelect(cell, view, onReview)),
  );
  if (!$('cell-dialog').open) $('cell-dialog').showModal();
}
