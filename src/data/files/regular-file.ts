import { constants, type Stats } from 'node:fs';
import { lstat, open, stat } from 'node:fs/promises';
import { DataError } from '../errors.js';

/** What a path is when it is not a regular file, in words a user knows. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isSocket()) return 'a socket';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

export function notAFile(path: string, info: Stats): DataError {
  return new DataError(path, 'not-a-file', `is ${kindOf(info)}, not a regular file; reading it could block forever, so it is skipped. Replace it with the image file itself`);
}

/** Classifies an fs error on `path` (after following symlinks) as the DataError a user can act on. */
export async function fileError(path: string, error: unknown): Promise<DataError> {
  if (error instanceof DataError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return new DataError(path, 'symlink-loop', 'is a symbolic link that leads back to itself; point it at the image file');
  if (code === 'ENOENT') {
    const link = await lstat(path).catch(() => undefined);
    if (link?.isSymbolicLink()) return new DataError(path, 'dangling-symlink', 'is a symbolic link whose target does not exist; restore the target or remove the link');
    return new DataError(path, 'missing-file', 'listed but not found; fix the path or restore the file');
  }
  if (code === 'ENOTDIR') return new DataError(path, 'missing-file', 'a folder on its path is a file; fix the path');
  return new DataError(path, 'unreadable', `cannot be read (${code ?? (error as Error).message}); check its permissions`);
}

/**
 * The stat of the regular file `path` names, symlinks followed. Anything else (FIFO, socket,
 * device, folder, dangling link, link loop) is a DataError, so no caller ever opens a pipe.
 */
export async function regularFileStat(path: string): Promise<Stats> {
  let info: Stats;
  try {
    info = await stat(path);
  } catch (error) {
    throw await fileError(path, error);
  }
  if (!info.isFile()) throw notAFile(path, info);
  return info;
}

/**
 * Reads a regular file whole. The type is checked before opening, and again on the open handle:
 * the open is non-blocking, so a file swapped for a FIFO in between still cannot hang the read
 * (a blocking open of a FIFO waits for a writer while holding one of libuv's few threads).
 */
export async function readRegularFile(path: string): Promise<Buffer> {
  await regularFileStat(path);
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw await fileError(path, error);
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(path, info);
    return await handle.readFile();
  } catch (error) {
    throw await fileError(path, error);
  } finally {
    await handle.close();
  }
}
