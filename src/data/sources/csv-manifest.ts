import { dirname, resolve } from 'node:path';
import { parseCsvRows } from '../csv.js';
import { DataError } from '../errors.js';
import { readRegularFile } from '../files/regular-file.js';
import { isSplitName, type SplitName } from '../split-names.js';
import { toKey, unknownLabel, type DatasetSource, type SampleRecord, type SourceOptions } from './source-types.js';

interface ListedRow {
  line: number;
  label: string;
  patientId: string;
  split: string;
}

/**
 * A file listed on two lines: the same label is a harmless repeat, reported once as skipped;
 * two labels (or two splits, or two patients) cannot both be true, so the manifest must be fixed.
 */
function repeatedRow(manifest: string, relativePath: string, path: string, earlier: ListedRow, row: ListedRow): DataError {
  if (earlier.label !== row.label) {
    return new DataError(
      manifest,
      'label-conflict',
      `lines ${earlier.line} and ${row.line} both list ${relativePath}, labelled "${earlier.label}" and "${row.label}"; an image has one label: delete the wrong line (or, if they are different images, give them different file names)`,
    );
  }
  for (const [column, a, b] of [['patient_id', earlier.patientId, row.patientId], ['split', earlier.split, row.split]] as const) {
    if (a !== b) {
      return new DataError(manifest, 'bad-manifest', `lines ${earlier.line} and ${row.line} both list ${relativePath} but give ${column} "${a}" and "${b}"; keep one of the two lines`);
    }
  }
  return new DataError(path, 'duplicate', `line ${row.line} of ${manifest} repeats line ${earlier.line} (same file, label "${row.label}"); it is counted once: delete line ${row.line}`);
}

/** CSV with a header naming at least `path` and `label`, optionally `patient_id` and `split`; paths are relative to the manifest. */
export async function readCsvManifest(manifestPath: string, options: SourceOptions = {}): Promise<DatasetSource> {
  const manifest = resolve(manifestPath);
  const root = dirname(manifest);
  const rows = parseCsvRows((await readRegularFile(manifest)).toString('utf8'));
  if (rows.length === 0) throw new DataError(manifest, 'bad-manifest', 'the manifest is empty; expected a header line "path,label[,patient_id][,split]"');
  const header = rows[0].cells.map((cell) => cell.trim().toLowerCase());
  const column = (name: string) => header.indexOf(name);
  const [pathColumn, labelColumn, patientColumn, splitColumn] = ['path', 'label', 'patient_id', 'split'].map(column);
  if (pathColumn < 0 || labelColumn < 0) {
    throw new DataError(manifest, 'bad-manifest', `the header "${rows[0].cells.join(',')}" lacks "path" and "label" columns`);
  }
  const cell = (cells: string[], index: number) => (index >= 0 ? (cells[index]?.trim() ?? '') : '');
  const samples: SampleRecord[] = [];
  const problems: DataError[] = [];
  const declaredSplits = new Map<string, SplitName>();
  const listed = new Map<string, ListedRow>();
  const given = options.classNames ? new Set(options.classNames) : undefined;
  let lineWithSplit: number | undefined;
  let lineWithoutSplit: number | undefined;
  for (const { line, cells } of rows.slice(1)) {
    const relativePath = cell(cells, pathColumn);
    const row: ListedRow = { line, label: cell(cells, labelColumn), patientId: cell(cells, patientColumn), split: cell(cells, splitColumn).toLowerCase() };
    if (relativePath === '' || row.label === '') throw new DataError(manifest, 'bad-manifest', `line ${line} has an empty path or label`);
    if (row.split !== '' && !isSplitName(row.split)) {
      throw new DataError(manifest, 'bad-manifest', `line ${line} has split "${cell(cells, splitColumn)}"; use train, val or test, or leave the split column empty on every line`);
    }
    if (row.split !== '') lineWithSplit ??= line;
    else lineWithoutSplit ??= line;
    const path = resolve(root, relativePath);
    const key = toKey(root, path);
    const earlier = listed.get(path);
    if (earlier) {
      const repeat = repeatedRow(manifest, relativePath, path, earlier, row);
      if (repeat.reason !== 'duplicate') throw repeat;
      problems.push(repeat);
      continue;
    }
    listed.set(path, row);
    if (isSplitName(row.split)) declaredSplits.set(key, row.split);
    if (given && !given.has(row.label)) {
      problems.push(unknownLabel(path, row.label, options.classNames!));
      continue;
    }
    const sample: SampleRecord = { path, key, label: row.label, line };
    if (row.patientId) sample.patientId = row.patientId;
    if (isSplitName(row.split)) sample.split = row.split;
    samples.push(sample);
  }
  if (lineWithSplit !== undefined && lineWithoutSplit !== undefined) {
    throw new DataError(manifest, 'bad-manifest', `line ${lineWithSplit} names a split but line ${lineWithoutSplit} does not; fill the split column on every line or on none`);
  }
  const classNames = options.classNames ?? [...new Set(samples.map((sample) => sample.label))].sort();
  return { root, samples, classNames, problems, warnings: [], declaredSplits };
}
