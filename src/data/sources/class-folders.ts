import { resolve } from 'node:path';
import { listFolder } from '../files/list-image-files.js';
import type { DataError } from '../errors.js';
import { toKey, unknownLabel, type DatasetSource, type SampleRecord, type SourceOptions } from './source-types.js';

/**
 * `root/<class>/*.jpg|jpeg|png|tif|tiff|bmp`, read by the listing rule predict uses too
 * (listFolder): symlinks followed, dot-files hidden, non-regular image-named entries reported.
 */
export async function readClassFolders(rootPath: string, options: SourceOptions = {}): Promise<DatasetSource> {
  const root = resolve(rootPath);
  const warnings: string[] = [];
  const samples: SampleRecord[] = [];
  const problems: DataError[] = [];
  const given = options.classNames ? new Set(options.classNames) : undefined;
  const foundClasses: string[] = [];
  for (const folder of (await listFolder(root)).folders) {
    const label = toKey(root, folder);
    const listing = await listFolder(folder);
    if (listing.images.length + listing.skipped.length === 0 && !given?.has(label)) {
      warnings.push(`${folder}: holds no images, so it is not taken as a class`);
      continue;
    }
    foundClasses.push(label);
    if (listing.folders.length > 0) {
      warnings.push(`${folder}: its sub-folders (e.g. ${listing.folders[0]}) are not read; a class's images lie directly in its folder`);
    }
    for (const path of listing.images) {
      if (given && !given.has(label)) problems.push(unknownLabel(path, label, options.classNames!));
      else samples.push({ path, key: toKey(root, path), label });
    }
    problems.push(...listing.skipped);
  }
  return { root, samples, classNames: options.classNames ?? foundClasses, problems, warnings, declaredSplits: new Map() };
}
