// `aplnet evaluate`'s per-case listing of the evaluated split: each case's summary (the one predict
// and the web page show) beside the truth.
import { CASE_CALL_SOURCE_TITLES, type EvaluatedCase } from '../run/index.js';
import { formatTable } from './format-table.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** "ig 5 · lymphocyte 3": the classes present, in the run's class order. */
function counts(values: readonly number[], classNames: readonly string[]): string {
  return values.flatMap((n, k) => (n > 0 ? [`${classNames[k]} ${n}`] : [])).join(' · ') || '—';
}

function flaggedCell(c: EvaluatedCase): string {
  return `${c.summary.flagged}/${c.summary.flagRule === 'set-aside' ? c.summary.cells : c.summary.usable} (${pct(c.summary.flaggedShare)})`;
}

/** The table a reader scans: with calls, call against truth; without, the predicted differential against the true one. */
export function evaluatedCasesListing(cases: readonly EvaluatedCase[], classNames: readonly string[]): string {
  if (cases.length === 0) return '';
  const share = pct(cases[0].summary.maxFlaggedShare);
  const review = (c: EvaluatedCase) => (c.summary.refer ? 'refer' : '—');
  const called = cases.filter((c) => c.summary.call);
  if (called.length > 0) {
    const sources = [...new Set(called.map((c) => CASE_CALL_SOURCE_TITLES[c.summary.call!.source]))].join('; ');
    const right = called.filter((c) => c.summary.call!.label === c.truth).length;
    const table = formatTable(['case', 'truth', 'call', 'probability', 'review', 'flagged', 'differential'], cases.map((c) => [
      c.summary.caseId ?? '', c.truth ?? '', c.summary.call?.label ?? 'none', c.summary.call ? pct(c.summary.call.probability) : '', review(c), flaggedCell(c), counts(c.summary.differential.map((d) => d.count), classNames),
    ]));
    const signed = called.filter((c) => !c.summary.refer);
    const signedRight = signed.filter((c) => c.summary.call!.label === c.truth).length;
    const flaggedWhat = called[0].summary.flagRule === 'set-aside' ? 'images set aside' : 'flagged cells';
    return [`cases: ${cases.length}, calls from the ${sources}; ${right} of ${called.length} calls agree with the truth; ${cases.filter((c) => c.summary.refer).length} referred (case referral threshold ${pct(called[0].summary.call!.threshold)}, stated share of ${flaggedWhat} ${share}); of the ${signed.length} not referred, ${signedRight} agree with the truth`, table].join('\n');
  }
  const table = formatTable(['case', 'cells', 'review', 'flagged', 'differential (predicted)', 'differential (true)'], cases.map((c) => [
    c.summary.caseId ?? '', String(c.summary.cells), review(c), flaggedCell(c), counts(c.summary.differential.map((d) => d.count), classNames), counts(c.trueDifferential, classNames),
  ]));
  return [`cases: ${cases.length}, differentials (the run's labels are cell types, so no case call); ${cases.filter((c) => c.summary.refer).length} referred (stated share of flagged cells ${share})`, table].join('\n');
}
