// The review gallery, as on a CellaVision screen: the cells grouped by the model's call with a count
// per group, then the cells it should not be trusted on in groups of their own (low confidence, not
// like the training cells, unreadable). Each cell is a thumbnail with its map (toggled per cell),
// its confidence, and the reviewer's choice beside the model's call. Tiles are kept between renders
// so images load once and a reviewer's focus stays put.
import { el, pct } from './dom.js';

export const GROUP_TITLES = {
  'low-confidence': 'Low confidence — review each',
  'out-of-distribution': 'Not like the training cells — set aside, not counted',
  unreadable: 'Could not be read',
};

/** A message that starts by naming the file, without the name (shown beside it already). */
export const withoutName = (name, message) => (message.startsWith(name) ? message.slice(name.length).replace(/^[:\s]+/, '') : message);

const REVIEW_NAMES = { 'other-cell': 'other cell type', 'not-a-cell': 'not a cell' };
export const reviewName = (className) => REVIEW_NAMES[className] ?? className;

/** A <select> holding the reviewer's choice for one cell: confirm the call, reclassify, or undo. */
export function reviewSelect(cell, view, onReview) {
  const select = el('select', { class: 'review', 'aria-label': `Review ${cell.file} (model: ${cell.predicted})` });
  select.append(el('option', { value: '', text: cell.review ? 'Undo review' : 'Review…' }));
  for (const name of view.reviewClasses) {
    select.append(el('option', { value: name, text: name === cell.predicted ? `✓ Confirm ${name}` : `→ ${reviewName(name)}` }));
  }
  select.value = cell.review?.className ?? '';
  select.addEventListener('change', () => onReview(cell.index, select.value || null));
  return select;
}

function badge(cell) {
  if (!cell.review) return el('span', { class: 'badge' });
  const confirmed = cell.review.className === cell.predicted;
  return el('span', { class: `badge ${confirmed ? 'confirmed' : 'reclassified'}`, text: confirmed ? '✓ confirmed' : `→ ${reviewName(cell.review.className)}` });
}

export class Gallery {
  constructor(root, { onOpen, onReview, onConfirmAll, settings }) {
    this.root = root;
    this.onOpen = onOpen;
    this.onReview = onReview;
    this.onConfirmAll = onConfirmAll;
    this.settings = settings;
    this.tiles = new Map();
    /** Cells whose map the reviewer switched from its default by hand (off for a cell, on for a set-aside image). */
    this.flipped = new Set();
  }

  clear() {
    this.tiles.clear();
    this.flipped.clear();
    this.root.replaceChildren();
  }

  tile(cell, view) {
    let tile = this.tiles.get(cell.index);
    if (!tile) {
      const heatmap = el('img', { class: 'heatmap', alt: '' });
      const thumb = el('button', { type: 'button', class: 'thumb' },
        el('span', { class: 'stack' }, el('img', { src: cell.images.input, alt: '', decoding: 'async' }), heatmap));
      thumb.addEventListener('click', () => this.onOpen(tile.cell));
      const toggle = el('button', { type: 'button', class: 'map-toggle', title: 'Show or hide the map on this cell' }, 'Map');
      toggle.addEventListener('click', () => {
        if (this.flipped.has(cell.index)) this.flipped.delete(cell.index);
        else this.flipped.add(cell.index);
        this.drawMap(tile);
      });
      tile = el('figure', { class: 'tile', 'data-index': String(cell.index) });
      Object.assign(tile, { thumb, heatmap, toggle });
      this.tiles.set(cell.index, tile);
    }
    tile.cell = cell;
    // A class and a percentage on an image that is not like the training cells would invite trust
    // (noise can read "ig 100%"): the set-aside group says why it is there instead.
    const score = cell.ood ? (cell.ood.score >= 100 ? cell.ood.score.toExponential(1) : cell.ood.score.toFixed(1)) : '';
    const call = cell.group === 'class' ? pct(cell.confidence)
      : cell.group === 'out-of-distribution' ? `not counted · OOD score ${score} (limit ${cell.ood.threshold.toFixed(2)})`
      : `${cell.predicted} ${pct(cell.confidence)}`;
    tile.thumb.setAttribute('aria-label', `${cell.file}: model ${cell.predicted} ${pct(cell.confidence)}${cell.review ? `, reviewer ${reviewName(cell.review.className)}` : ''}. Open`);
    tile.thumb.title = cell.file;
    tile.classList.toggle('reviewed', Boolean(cell.review));
    tile.replaceChildren(tile.thumb, el('figcaption', {},
      el('span', { class: 'tile-call', text: call }),
      // A rank by weight means something only where the cells weigh in a case call.
      cell.rank && view.summary.call ? el('span', { class: 'tile-rank', title: 'rank by weight in the case call', text: `#${cell.rank}` }) : null,
      badge(cell),
      el('span', { class: 'tile-actions' }, tile.toggle, reviewSelect(cell, view, this.onReview))));
    this.drawMap(tile);
    return tile;
  }

  /**
   * The chosen map on a tile, unless the reviewer switched it there. A set-aside image starts
   * without: a map over something that is not a cell (a blank field is one flat colour) explains nothing.
   */
  drawMap(tile) {
    const { overlay, opacity } = this.settings();
    const src = overlay === 'none' ? null : tile.cell.images.maps[overlay];
    const byDefault = tile.cell.group !== 'out-of-distribution';
    const shown = Boolean(src) && byDefault !== this.flipped.has(tile.cell.index);
    tile.heatmap.hidden = !shown;
    if (shown && tile.heatmap.getAttribute('src') !== src) tile.heatmap.src = src;
    tile.heatmap.style.opacity = String(opacity);
    tile.toggle.setAttribute('aria-pressed', String(shown));
    tile.toggle.disabled = !src;
  }

  redrawMaps() {
    for (const tile of this.tiles.values()) this.drawMap(tile);
  }

  render(view) {
    const byRank = (a, b) => (a.rank ?? Infinity) - (b.rank ?? Infinity) || a.index - b.index;
    const groups = [
      ...view.classes.map((name) => ({ id: `group-${name}`, title: name, cells: view.cells.filter((c) => c.group === 'class' && c.predicted === name) })),
      ...Object.entries(GROUP_TITLES).map(([group, title]) => ({ id: `group-${group}`, title, group, cells: view.cells.filter((c) => c.group === group) })),
    ].filter((g) => g.cells.length > 0);
    this.root.replaceChildren(...groups.map((g) => {
      const cells = [...g.cells].sort(byRank);
      const body = g.group === 'unreadable'
        ? el('ul', { class: 'unreadable' }, ...cells.map((c) => el('li', {}, el('b', { text: c.file }), ` — ${withoutName(c.file, c.message ?? c.reason)}`)))
        : el('div', { class: 'tiles' }, ...cells.map((c) => this.tile(c, view)));
      // As on a review station: the cells of a class the reviewer agrees with are accepted at once.
      const unreviewed = g.group ? [] : cells.filter((c) => !c.review);
      const confirmAll = unreviewed.length > 1
        ? el('button', { type: 'button', class: 'link-button confirm-all', text: `✓ Confirm the ${unreviewed.length} unreviewed as ${g.title}` })
        : null;
      confirmAll?.addEventListener('click', () => this.onConfirmAll(unreviewed.map((c) => c.index), g.title));
      return el('section', { class: `group${g.group ? ` ${g.group}` : ''}`, id: g.id, 'aria-label': `${g.title}: ${cells.length}` },
        el('h3', {}, `${g.title} `, el('span', { class: 'count', text: String(cells.length) }), confirmAll ? ' ' : null, confirmAll), body);
    }));
  }
}
