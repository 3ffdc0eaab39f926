import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { parseCsv } from './csv.js';
import { DataError } from './errors.js';
import { isSplitName, type SplitName } from './split-names.js';

/** One labelled image as listed by the source, before anything is read. */
export interface SampleRecord {
  /** Absolute path to the image. */
  path: string;
  /** Path relative to the dataset root with '/' separators: the stable name used in split.json. */
  key: string;
  label: string;
  patientId?: string;
  /** A split fixed by the manifest, which then overrides any computed split. */
  split?: SplitName;
}

export interface DatasetSource {
  root: string;
  samples: SampleRecord[];
  /** Class names in their fixed order: the label index of a class is its position here. */
  classNames: string[];
  /** Listed entries that cannot be used (e.g. a label not in the class list), for the bad-image policy to judge. */
  problems: DataError[];
  /** Notes that do not stop anything, e.g. a folder without images that is not taken as a class. */
  warnings: string[];
}

export interface SourceOptions {
  /** Fixes the classes and their order; otherwise the sorted distinct labels are used. */
  classNames?: string[];
}

export const imageExtensions: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp']);

function hasImageExtension(name: string): boolean {
  return imageExtensions.has(extname(name).toLowerCase());
}

function toKey(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

/** A folder of class folders, or a CSV manifest file: decided by what the path is. */
export async function readSource(path: string, options: SourceOptions = {}): Promise<DatasetSource> {
  const info = await stat(path).catch(() => {
    throw new DataError(path, 'missing-file', 'the dataset path does not exist; pass a folder of class folders or a CSV manifest');
  });
  return info.isDirectory() ? readClassFolders(path, options) : readCsvManifest(path, options);
}

/** `root/<class>/*.jpg|jpeg|png|tif|tiff|bmp`; files with other extensions are ignored (e.g. Thumbs.db). */
export async function readClassFolders(rootPath: string, options: SourceOptions = {}): Promise<DatasetSource> {
  const root = resolve(rootPath);
  const entries = await readdir(root, { withFileTypes: true });
  const folders = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
  const warnings: string[] = [];
  const samples: SampleRecord[] = [];
  const problems: DataError[] = [];
  const given = options.classNames ? new Set(options.classNames) : undefined;
  const foundClasses: string[] = [];
  for (const folder of folders.sort()) {
    const files = (await readdir(join(root, folder), { withFileTypes: true }))
      .filter((entry) => entry.isFile() && hasImageExtension(entry.name))
      .map((entry) => entry.name)
      .sort();
    if (files.length === 0 && !given?.has(folder)) {
      warnings.push(`${join(root, folder)}: holds no images, so it is not taken as a class`);
      continue;
    }
    foundClasses.push(folder);
    for (const file of files) {
      const path = join(root, folder, file);
      if (given && !given.has(folder)) {
        problems.push(unknownLabel(path, folder, options.classNames!));
        continue;
      }
      samples.push({ path, key: toKey(root, path), label: folder });
    }
  }
  return { root, samples, classNames: options.classNames ?? foundClasses, problems, warnings };
}

/** CSV with a header naming at least `path` and `label`, optionally `patient_id` and `split`; paths are relative to the manifest. */
export async function readCsvManifest(manifestPath: string, options: SourceOptions = {}): Promise<DatasetSource> {
  const manifest = resolve(manifestPath);
  const root = dirname(manifest);
  const rows = parseCsv(await readFile(manifest, 'utf8'));
  if (rows.length === 0) throw new DataError(manifest, 'bad-manifest', 'the manifest is empty; expected a header line "path,label[,patient_id][,split]"');
  const header = rows[0].map((cell) => cell.trim().toLowerCase());
  const column = (name: string) => header.indexOf(name);
  const pathColumn = column('path');
  const labelColumn = column('label');
  const patientColumn = column('patient_id');
  const splitColumn = column('split');
  if (pathColumn < 0 || labelColumn < 0) {
    throw new DataError(manifest, 'bad-manifest', `the header "${rows[0].join(',')}" lacks "path" and "label" columns`);
  }
  const samples: SampleRecord[] = [];
  const problems: DataError[] = [];
  const given = options.classNames ? new Set(options.classNames) : undefined;
  for (let line = 1; line < rows.length; line++) {
    const cells = rows[line];
    const relativePath = cells[pathColumn]?.trim() ?? '';
    const label = cells[labelColumn]?.trim() ?? '';
    if (relativePath === '' || label === '') {
      throw new DataError(manifest, 'bad-manifest', `line ${line + 1} has an empty path or label`);
    }
    const path = resolve(root, relativePath);
    if (given && !given.has(label)) {
      problems.push(unknownLabel(path, label, options.classNames!));
      continue;
    }
    const sample: SampleRecord = { path, key: toKey(root, path), label };
    const patientId = patientColumn >= 0 ? cells[patientColumn]?.trim() : '';
    if (patientId) sample.patientId = patientId;
    const split = splitColumn >= 0 ? cells[splitColumn]?.trim().toLowerCase() : '';
    if (split) {
      if (!isSplitName(split)) throw new DataError(manifest, 'bad-manifest', `line ${line + 1} has split "${split}"; use train, val or test`);
      sample.split = split;
    }
    samples.push(sample);
  }
  const classNames = options.classNames ?? [...new Set(samples.map((sample) => sample.label))].sort();
  return { root, samples, classNames, problems, warnings: [] };
}

function unknownLabel(path: string, label: string, classNames: string[]): DataError {
  return new DataError(path, 'unknown-label', `label "${label}" is not one of the classes [${classNames.join(', ')}]`);
}
