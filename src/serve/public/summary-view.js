// The case summary at the top of the review screen: the call with its source named (or the
// differential only, for a cell-type model), the case flag, flagged cells against the stated share,
// and the differential counted by the model and after review.
import { $, el, pct } from './dom.js';

const SOURCE_NAMES = {
  'case-model': 'the case model (attention over the cells)',
  'mean-probability': 'the mean of the cells\' probabilities',
  'mean-log-probability': 'the mean of the cells\' log-probabilities',
  'majority-vote': 'a majority vote of the cells',
};

/** Never green while the summary refers: orange with its reasons, or a neutral "no rule triggered". */
function caseFlag(summary) {
  if (summary.refer) {
    return el('div', { class: 'case-flag refer', role: 'alert' },
      el('p', { class: 'flag refer', text: '⚠ Refer: review this case before sign-out' }),
      el('ul', {}, ...summary.referReasons.map((reason) => el('li', { text: reason }))));
  }
  return el('div', { class: 'case-flag' }, el('p', { class: 'flag neutral', text: 'No referral rule triggered' }));
}

/** Flagged cells as a bar against the stated maximum share, marked on the same scale. */
function flaggedMeter(summary) {
  const share = Math.min(1, summary.flaggedShare);
  const over = summary.flaggedShare > summary.maxFlaggedShare;
  const fill = el('span', { class: `meter-fill${over ? ' over' : ''}` });
  fill.style.width = pct(share);
  const mark = el('span', { class: 'meter-mark', title: `stated maximum ${pct(summary.maxFlaggedShare)}` });
  mark.style.left = pct(summary.maxFlaggedShare);
  return el('div', { class: 'flagged' },
    el('p', { class: 'small' }, el('b', { text: flaggedLine(summary) }),
      el('span', { class: over ? 'over-text' : 'muted', text: ` · stated maximum ${pct(summary.maxFlaggedShare)}${over ? ' — exceeded' : ''}` })),
    el('div', { class: 'meter', 'aria-hidden': 'true' }, fill, mark),
    ...(summary.flagRule === 'set-aside'
      ? [el('p', { class: 'muted small', text: `${summary.lowConfidence} of ${summary.usable} usable cells are unsure on their own: expected where the labels belong to the patient (most cells are found in every kind of case), so it is no reason to refer.` })]
      : []));
}

/** What the meter counts: images set aside where the labels belong to the patient, else cells unsure on their own. */
function flaggedLine(summary) {
  return summary.flagRule === 'set-aside'
    ? `Set aside for review: ${summary.flagged} of ${summary.cells} images (${pct(summary.flaggedShare)}), unreadable or unlike the training cells`
    : `Flagged for low confidence: ${summary.flagged} of ${summary.usable} usable cells (${pct(summary.flaggedShare)})`;
}

function callLine(summary) {
  if (!summary.call) {
    return [
      el('p', { class: 'call' }, 'Differential only'),
      el('p', { class: 'muted small', text: 'This model classifies cell types: it makes no case diagnosis. The count below is what it offers for review.' }),
    ];
  }
  const c = summary.call;
  return [
    el('p', { class: 'call' }, `${c.label} `, el('span', { class: 'muted', text: pct(c.probability) })),
    el('p', { class: 'muted small', text: `Case call from ${SOURCE_NAMES[c.source] ?? c.source}. Referred below ${pct(c.threshold)}: ${c.thresholdSource}.` }),
  ];
}

export function renderSummary(view) {
  const s = view.summary;
  $('summary-case-id').textContent = view.caseId;
  $('summary-body').replaceChildren(
    ...callLine(s),
    caseFlag(s),
    flaggedMeter(s),
    el('p', { class: 'small', text: `${s.cells} image${s.cells === 1 ? '' : 's'}: ${s.usable} usable, ${s.outOfDistribution} set aside as not like the training cells, ${s.failed} unreadable.` }),
  );
  const body = $('differential').querySelector('tbody');
  const rows = view.reviewed.rows.filter((row) => view.classes.includes(row.className) || row.reviewedCount > 0);
  body.replaceChildren(...rows.map((row) => {
    const changed = row.modelCount !== row.reviewedCount;
    const name = view.classes.includes(row.className)
      ? el('a', { href: `#group-${row.className}`, text: row.className })
      : el('span', { text: row.className });
    return el('tr', { class: `${row.modelCount + row.reviewedCount === 0 ? 'zero' : ''}${changed ? ' changed' : ''}`, 'data-class': row.className },
      el('th', { scope: 'row' }, name),
      el('td', { class: 'model-count', text: String(row.modelCount) }),
      el('td', { text: `${row.modelPercent.toFixed(1)}%` }),
      el('td', { class: 'reviewed-count', text: String(row.reviewedCount) }),
      el('td', { text: `${row.reviewedPercent.toFixed(1)}%` }));
  }));
  const r = view.reviewed;
  $('review-count').textContent = `Reviewed ${r.reviewed} of ${s.cells - s.failed} cells: ${r.reviewed - r.reclassified} confirmed, ${r.reclassified} reclassified${r.notACell ? ` (${r.notACell} as not a cell)` : ''}. Cells not yet reviewed count under the model's call; cells set aside count only once reviewed.`;
  $('summary').hidden = false;
}
