import { stat } from 'node:fs/promises';
import { DataError } from '../errors.js';
import { notAFile } from '../files/regular-file.js';
import { readClassFolders } from './class-folders.js';
import { readCsvManifest } from './csv-manifest.js';
import type { DatasetSource, SourceOptions } from './source-types.js';

/** A folder of class folders, or a CSV manifest file: decided by what the path is. */
export async function readSource(path: string, options: SourceOptions = {}): Promise<DatasetSource> {
  const info = await stat(path).catch(() => {
    throw new DataError(path, 'missing-file', 'the dataset path does not exist; pass a folder of class folders or a CSV manifest');
  });
  if (info.isDirectory()) return readClassFolders(path, options);
  if (!info.isFile()) throw notAFile(path, info);
  return readCsvManifest(path, options);
}
