// The measures of explained images as one CSV: a row per image, the means over the explained
// images, and a row per input that could not be read (with its reason), under a header comment
// that says what every column and the raw-map PNGs mean.
import type { MapMeasures } from './explain-batch.js';
import { RAW_MAP_SCALE } from './explain-image.js';
import type { ImageFailure } from './predict-images.js';

export interface ExplainedRow {
  file: string;
  predicted: string;
  /** Calibrated probability of the predicted class. */
  probability: number;
  refer: boolean;
  explainedClass: string;
  maskAreaFraction: number;
  /** Per method and 'random'. */
  measures: Record<string, MapMeasures>;
}

export const MEASURE_NAMES = ['cell_energy', 'deletion_auc', 'insertion_auc'] as const;

/** Mean of every measure of every map name over the rows (NaN where there is no row). */
export function meanMeasures(rows: readonly ExplainedRow[], names: readonly string[]): Record<string, MapMeasures> {
  const mean = (pick: (row: ExplainedRow) => number) => rows.reduce((sum, row) => sum + pick(row), 0) / rows.length;
  return Object.fromEntries(names.map((name) => [name, Object.fromEntries(MEASURE_NAMES.map((m) => [m, mean((row) => row.measures[name][m])])) as unknown as MapMeasures]));
}

const cell = (value: string): string => (/[",\n#]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
const number = (value: number): string => (Number.isFinite(value) ? value.toFixed(4) : '');

export function explainCsv(rows: readonly ExplainedRow[], failures: readonly ImageFailure[], names: readonly string[], notApplicable: readonly { method: string; reason: string }[]): string {
  const comment = [
    '# aplnet explain: one row per image; cell_energy = share of the map\'s positive mass inside the nucleated-cell mask made from the image (a uniform map scores mask_area);',
    '# deletion_auc (lower = more faithful) and insertion_auc (higher = more faithful) of the explained class\'s probability; "random" is a seeded random-map baseline.',
    `# ${RAW_MAP_SCALE}.`,
    '# The row whose file is "mean" averages the explained images; rows with an error could not be read or predicted.',
    ...notApplicable.map(({ method, reason }) => `# ${method}: not applicable to this model (${reason.replace(/\n/g, ' ')})`),
  ];
  const header = ['file', 'predicted', 'probability', 'refer', 'explained_class', 'mask_area', ...names.flatMap((name) => MEASURE_NAMES.map((m) => `${name}_${m}`)), 'error_reason', 'error'];
  const measureCells = (measures: Record<string, MapMeasures>) => names.flatMap((name) => MEASURE_NAMES.map((m) => number(measures[name][m])));
  const lines = rows.map((r) => [r.file, r.predicted, number(r.probability), String(r.refer), r.explainedClass, number(r.maskAreaFraction), ...measureCells(r.measures), '', '']);
  if (rows.length > 0) {
    const area = rows.reduce((sum, r) => sum + r.maskAreaFraction, 0) / rows.length;
    lines.push(['mean', '', '', '', '', number(area), ...measureCells(meanMeasures(rows, names)), '', '']);
  }
  for (const f of failures) lines.push([f.file, '', '', '', '', '', ...names.flatMap(() => MEASURE_NAMES.map(() => '')), f.reason, f.message]);
  return `${[...comment, ...[header, ...lines].map((row) => row.map(cell).join(','))].join('\n')}\n`;
}
