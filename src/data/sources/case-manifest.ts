// A manifest of images to predict, grouped into cases: `path` and `patient_id` are needed, `label`
// and `split` are read when there (a training manifest works as it is), so a lab can list new
// patients' cells without inventing labels for them.
import { dirname, resolve } from 'node:path';
import { parseCsvRows } from '../csv.js';
import { DataError } from '../errors.js';
import { readRegularFile } from '../files/regular-file.js';
import { isSplitName, type SplitName } from '../split-names.js';

export interface CaseManifestRow {
  /** Absolute path of the image. */
  path: string;
  caseId: string;
  /** The case's label, when the manifest has a label column. */
  label?: string;
  split?: SplitName;
  line: number;
}

/** Rows in file order; every row names its case, a file listed twice is an error naming both lines. */
export async function readCaseManifest(manifestPath: string): Promise<CaseManifestRow[]> {
  const manifest = resolve(manifestPath);
  const rows = parseCsvRows((await readRegularFile(manifest)).toString('utf8'));
  if (rows.length === 0) throw new DataError(manifest, 'bad-manifest', 'the manifest is empty; expected a header line "path,patient_id[,label][,split]"');
  const header = rows[0].cells.map((cell) => cell.trim().toLowerCase());
  const [pathColumn, caseColumn, labelColumn, splitColumn] = ['path', 'patient_id', 'label', 'split'].map((name) => header.indexOf(name));
  if (pathColumn < 0 || caseColumn < 0) {
    throw new DataError(manifest, 'bad-manifest', `the header "${rows[0].cells.join(',')}" lacks a "path" or a "patient_id" column; a case is the images of one patient`);
  }
  const cell = (cells: string[], index: number) => (index >= 0 ? (cells[index]?.trim() ?? '') : '');
  const seen = new Map<string, number>();
  return rows.slice(1).map(({ line, cells }) => {
    const relativePath = cell(cells, pathColumn);
    const caseId = cell(cells, caseColumn);
    if (relativePath === '' || caseId === '') throw new DataError(manifest, 'bad-manifest', `line ${line} has an empty path or patient_id`);
    const path = resolve(dirname(manifest), relativePath);
    const earlier = seen.get(path);
    if (earlier !== undefined) throw new DataError(manifest, 'bad-manifest', `lines ${earlier} and ${line} both list ${relativePath}; an image belongs to one case: delete one of the lines`);
    seen.set(path, line);
    const split = cell(cells, splitColumn).toLowerCase();
    if (split !== '' && !isSplitName(split)) throw new DataError(manifest, 'bad-manifest', `line ${line} has split "${cell(cells, splitColumn)}"; use train, val or test`);
    const row: CaseManifestRow = { path, caseId, line };
    const label = cell(cells, labelColumn);
    if (label !== '') row.label = label;
    if (isSplitName(split)) row.split = split;
    return row;
  });
}
