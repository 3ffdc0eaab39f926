// A case as a lab keeps it: JSON with everything (the summary, the differential counted both ways,
// each cell's call, probabilities, OOD flag and the reviewer's class beside the call), and CSV of
// the same for a spreadsheet: one table whose `record` column says what a row is (the case, one
// class of the differential, or one cell), so any CSV reader takes it whole.
import type { CaseView, CellView } from './case-view.js';
import type { ModelInfo } from './model-info.js';

export interface CaseExport {
  format: 'aplnet-case/1';
  exportedAt: string;
  caseId: string;
  model: { name: string; aplnetVersion: string; classes: string[]; calibration: ModelInfo['calibration'] };
  summary: CaseView['summary'];
  reviewed: CaseView['reviewed'];
  cells: Omit<CellView, 'images'>[];
}

export function caseExportJson(view: CaseView, info: ModelInfo, now = new Date()): CaseExport {
  return {
    format: 'aplnet-case/1',
    exportedAt: now.toISOString(),
    caseId: view.caseId,
    model: { name: info.name, aplnetVersion: info.aplnetVersion, classes: info.classes, calibration: info.calibration },
    summary: view.summary,
    reviewed: view.reviewed,
    cells: view.cells.map(({ images: _images, ...cell }) => cell),
  };
}

type Value = string | number | boolean | null | undefined;

/**
 * A text field as CSV: quoted when it holds a separator, quote or line break, and defused when it
 * starts like a spreadsheet formula (=, +, -, @, tab, CR): a file name is chosen by whoever made the
 * file, and "=HYPERLINK(…)" must stay text when the lab opens the export.
 */
export function csvField(value: Value): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const COLUMNS = [
  'record', 'case_id', 'name', 'status', 'model_call', 'probability', 'refer', 'reasons', 'source',
  'cells', 'usable', 'flagged', 'flagged_share', 'max_flagged_share', 'flag_rule', 'low_confidence', 'case_threshold',
  'model_count', 'model_percent', 'reviewed_count', 'reviewed_percent',
  'ood_flagged', 'ood_score', 'ood_threshold', 'case_weight', 'case_rank', 'reviewer_class', 'reviewed_at', 'notes',
] as const;
type Column = (typeof COLUMNS)[number];

const round = (x: number | null | undefined, digits = 6): number | null => (x === null || x === undefined ? null : Number(x.toFixed(digits)));

export function caseExportCsv(view: CaseView): string {
  const probabilityColumns = view.classes.map((name) => `p_${name}`);
  const header = [...COLUMNS, ...probabilityColumns];
  const rows: string[] = [header.map(csvField).join(',')];
  const push = (row: Partial<Record<Column, Value>>, probabilities: Record<string, number> | null = null): void => {
    const fields: Value[] = COLUMNS.map((column) => row[column]);
    for (const name of view.classes) fields.push(probabilities ? round(probabilities[name]) : null);
    rows.push(fields.map(csvField).join(','));
  };
  const s = view.summary;
  push({
    record: 'case', case_id: view.caseId, status: s.refer ? 'refer' : 'no referral',
    model_call: s.call?.label ?? null, probability: round(s.call?.probability), refer: s.refer, reasons: s.referReasons.join(' | '),
    source: s.call?.source ?? 'differential only (cell-type model)',
    cells: s.cells, usable: s.usable, flagged: s.flagged, flagged_share: round(s.flaggedShare), max_flagged_share: s.maxFlaggedShare,
    flag_rule: s.flagRule, low_confidence: s.lowConfidence, case_threshold: round(s.call?.threshold),
    reviewed_count: view.reviewed.reviewed, notes: `${view.reviewed.reclassified} reclassified by the reviewer; ${s.failed} unreadable; ${s.outOfDistribution} set aside as unlike the training cells`,
  }, s.call?.probabilities ?? null);
  for (const row of view.reviewed.rows) {
    push({
      record: 'class', case_id: view.caseId, name: row.className,
      model_count: row.modelCount, model_percent: round(row.modelPercent, 2), reviewed_count: row.reviewedCount, reviewed_percent: round(row.reviewedPercent, 2),
    });
  }
  for (const cell of view.cells) {
    push({
      record: 'cell', case_id: view.caseId, name: cell.file, status: cell.ok ? cell.group : `unreadable: ${cell.reason}`,
      model_call: cell.predicted, probability: round(cell.confidence), refer: cell.refer, reasons: cell.ok ? cell.referReason : cell.message,
      ood_flagged: cell.ood?.flagged ?? null, ood_score: round(cell.ood?.score), ood_threshold: round(cell.ood?.threshold),
      case_weight: round(cell.weight), case_rank: cell.rank, reviewer_class: cell.review?.className ?? null, reviewed_at: cell.review?.reviewedAt ?? null,
      notes: cell.notes.join('; '),
    }, cell.probabilities);
  }
  return `${rows.join('\r\n')}\r\n`;
}
