// Case summaries as files a lab keeps: JSON with everything (the ranked cells included) and a CSV of
// one row per case, the differential as a count and a percentage column per class, for a
// spreadsheet or a LIS import. Both are written atomically.
import { formatCsvRow } from '../data/index.js';
import { writeFileAtomic } from '../io/index.js';
import { CASE_CALL_SOURCE_TITLES, type CaseSummary } from './case-summary.js';
import type { LoadedRun } from './load-run.js';

export const CASE_SUMMARY_FORMATS = ['json', 'csv'] as const;
export type CaseSummaryFormat = (typeof CASE_SUMMARY_FORMATS)[number];

/** The file format a path asks for by its extension, or an error saying which to use. */
export function caseSummaryFormatOf(path: string): CaseSummaryFormat {
  const extension = path.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (extension === 'json' || extension === 'csv') return extension;
  throw new Error(`${path}: a case summary file is written as .json or .csv; name the file with one of those extensions`);
}

export function caseSummariesJson(run: Pick<LoadedRun, 'dir' | 'weightsSha256'>, summaries: readonly CaseSummary[]): string {
  return `${JSON.stringify({ run: run.dir, weightsSha256: run.weightsSha256, sources: CASE_CALL_SOURCE_TITLES, cases: summaries }, null, 2)}\n`;
}

export function caseSummariesCsv(classNames: readonly string[], summaries: readonly CaseSummary[]): string {
  const header = [
    'case_id', 'images', 'unreadable', 'out_of_distribution', 'usable', 'flag_rule', 'flagged', 'flagged_share', 'max_flagged_share', 'low_confidence',
    'call', 'call_probability', 'call_source', 'call_threshold', 'refer', 'refer_reasons',
    ...classNames.flatMap((name) => [`n_${name}`, `pct_${name}`]),
  ];
  const rows = summaries.map((s) => [
    s.caseId ?? '', String(s.cells), String(s.failed), String(s.outOfDistribution), String(s.usable), s.flagRule, String(s.flagged), s.flaggedShare.toFixed(4), String(s.maxFlaggedShare), String(s.lowConfidence),
    s.call?.label ?? '', s.call ? s.call.probability.toFixed(4) : '', s.call?.source ?? '', s.call ? String(s.call.threshold) : '', String(s.refer), s.referReasons.join('; '),
    ...classNames.flatMap((name) => {
      const entry = s.differential.find((d) => d.className === name);
      return [String(entry?.count ?? 0), (entry?.percent ?? 0).toFixed(1)];
    }),
  ]);
  return `${[header, ...rows].map(formatCsvRow).join('\n')}\n`;
}

/** Writes the summaries to `path` in the format its extension names. */
export function writeCaseSummaries(path: string, run: Pick<LoadedRun, 'dir' | 'weightsSha256' | 'classNames'>, summaries: readonly CaseSummary[]): void {
  const format = caseSummaryFormatOf(path);
  writeFileAtomic(path, format === 'json' ? caseSummariesJson(run, summaries) : caseSummariesCsv(run.classNames, summaries));
}
