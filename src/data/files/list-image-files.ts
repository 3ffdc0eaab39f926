import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { SkippedImage } from '../data-summary.js';
import { DataError } from '../errors.js';
import { fileError, notAFile } from './regular-file.js';
import { skippedImageOf } from './skipped-list.js';

export const imageExtensions: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.tif', '.tiff', '.bmp']);

export function hasImageExtension(name: string): boolean {
  return imageExtensions.has(extname(name).toLowerCase());
}

/** One folder's entries under aplnet's single listing rule (see listFolder). */
export interface FolderListing {
  images: string[];
  folders: string[];
  skipped: DataError[];
}

function isUnder(path: string, folder: string | undefined): boolean {
  return folder !== undefined && (resolve(path) + sep).startsWith(folder);
}

/**
 * The one rule by which train, evaluate and predict see a folder: dot-files are hidden; entries
 * are sorted by name (code-unit order, the same on every machine); symlinks are followed, so a
 * dataset built of links is read like one of copies; an image-named entry that is not a regular
 * file (FIFO, device, dangling link, link loop) is reported as skipped with its reason, never
 * opened; files without an image extension are not inputs.
 */
export async function listFolder(dir: string, exclude?: string): Promise<FolderListing> {
  const listing: FolderListing = { images: [], folders: [], skipped: [] };
  const entries = (await readdir(dir, { withFileTypes: true })).filter((entry) => !entry.name.startsWith('.'));
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const path = join(dir, entry.name);
    const isImage = hasImageExtension(entry.name);
    if (isUnder(path, exclude)) continue;
    if (entry.isDirectory()) listing.folders.push(path);
    else if (entry.isFile()) {
      if (isImage) listing.images.push(path);
    } else {
      // A symlink or a special file: what it is decides, after following links.
      const info = await stat(path).catch((error: unknown) => error as Error);
      if (info instanceof Error) {
        if (isImage) listing.skipped.push(await fileError(path, info));
      } else if (info.isDirectory()) listing.folders.push(path);
      else if (!isImage) continue;
      else if (info.isFile()) listing.images.push(path);
      else listing.skipped.push(notAFile(path, info));
    }
  }
  return listing;
}

export interface ListedImages {
  files: string[];
  skipped: SkippedImage[];
}

/**
 * Image files from paths given by a user: a folder becomes the images inside it (recursively,
 * by listFolder's rule); a file is taken as given whatever its extension, so a misnamed image is
 * still tried and a non-image is reported by the decoder; a path that is not a regular file or
 * folder is skipped with its reason. Nothing under `exclude` (e.g. the overlay folder) is listed.
 */
export async function listImageFiles(paths: string[], options: { exclude?: string } = {}): Promise<ListedImages> {
  const exclude = options.exclude ? resolve(options.exclude) + sep : undefined;
  const result: ListedImages = { files: [], skipped: [] };
  const walk = async (dir: string, ancestors: Set<string>): Promise<void> => {
    let listing: FolderListing;
    try {
      listing = await listFolder(dir, exclude);
    } catch (error) {
      result.skipped.push(skippedImageOf(await fileError(dir, error)));
      return;
    }
    result.files.push(...listing.images);
    result.skipped.push(...listing.skipped.map(skippedImageOf));
    for (const folder of listing.folders) {
      const real = await realpath(folder).catch(() => resolve(folder));
      if (ancestors.has(real)) {
        result.skipped.push(skippedImageOf(new DataError(folder, 'symlink-loop', `links back to ${real}, a folder that contains it; it is not walked again`)));
      } else {
        await walk(folder, new Set([...ancestors, real]));
      }
    }
  };
  for (const path of paths) {
    const info = await stat(path).catch((error: unknown) => error as Error);
    if (info instanceof Error) result.skipped.push(skippedImageOf(await fileError(path, info)));
    else if (info.isDirectory()) await walk(path, new Set([await realpath(path).catch(() => resolve(path))]));
    else if (info.isFile()) result.files.push(path);
    else result.skipped.push(skippedImageOf(notAFile(path, info)));
  }
  return result;
}
