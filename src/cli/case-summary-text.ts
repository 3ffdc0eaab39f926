// A case summary as the terminal shows it (predict and evaluate): the call with its source named,
// the review flag with its reasons, the differential, the flagged cells against the stated share,
// and the cells that weigh most.
import { basename } from 'node:path';
import { CASE_CALL_SOURCE_TITLES, flaggedText, lowConfidenceNote, type CaseSummary } from '../run/index.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** Counts of the classes present, in the run's class order, e.g. "neutrophil 6 (100.0%)". */
export function differentialText(summary: CaseSummary): string {
  const present = summary.differential.filter((d) => d.count > 0);
  return present.length === 0 ? 'no usable cells' : present.map((d) => `${d.className} ${d.count} (${d.percent.toFixed(1)}%)`).join(' · ');
}

/** "left-shift 91.2% (baseline: mean of the cells' probabilities)", or why there is no call. */
export function callText(summary: CaseSummary): string {
  if (summary.call) return `${summary.call.label} ${pct(summary.call.probability)} (${CASE_CALL_SOURCE_TITLES[summary.call.source]}; referred below ${pct(summary.call.threshold)})`;
  return summary.usable === 0 && summary.refer ? 'none: no usable cells' : "none: the run's labels are cell types, so the differential is the summary";
}

export function reviewText(summary: CaseSummary): string {
  return summary.refer ? `refer to a specialist: ${summary.referReasons.join('; ')}` : 'no reason to refer under the stated rules';
}

export function formatCaseSummary(summary: CaseSummary, { topCells = 5, truth }: { topCells?: number; truth?: string } = {}): string {
  const setAside = [
    summary.failed > 0 ? `${summary.failed} unreadable` : '',
    summary.outOfDistribution > 0 ? `${summary.outOfDistribution} set aside as unlike the training cells` : '',
  ].filter(Boolean);
  const weightName = summary.call ? 'cells by case weight' : 'cells by confidence';
  // Without a call a cell's weight is its confidence, shown once.
  const weight = (w: number) => (summary.call ? ` ${w.toFixed(3)}` : '');
  const top = summary.ranked.slice(0, topCells).map((cell) => `${basename(cell.file)}${weight(cell.weight)} (${cell.predicted} ${pct(cell.confidence)}${cell.refer ? (summary.flagRule === 'low-confidence' ? ', flagged' : ', unsure') : ''})`);
  const lines = [
    `case ${summary.caseId ?? '(unnamed)'}: ${summary.cells} image(s), ${summary.usable} usable${setAside.length ? ` (${setAside.join(', ')})` : ''}`,
    `  call:         ${callText(summary)}`,
    ...(truth !== undefined ? [`  truth:        ${truth}`] : []),
    `  review:       ${reviewText(summary)}`,
    `  differential: ${differentialText(summary)}`,
    `  flagged:      ${flaggedText(summary)}; stated share ${pct(summary.maxFlaggedShare)}`,
    ...(lowConfidenceNote(summary) ? [`  unsure cells: ${lowConfidenceNote(summary)}`] : []),
    ...(top.length ? [`  ${weightName}: ${top.join(' · ')}${summary.ranked.length > top.length ? ` · … ${summary.ranked.length - top.length} more` : ''}`] : []),
  ];
  return lines.join('\n');
}
