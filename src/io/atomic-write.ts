// Writes a file so that readers see either the old content or the whole new one, never a part:
// write a temp file beside it (rename is only atomic within one filesystem), fsync, then rename
// over the target. A crash or full disk leaves at most a stray temp file, never a half-written target.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { processExists } from './process-alive.js';

export function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): void {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  const chunks = Array.isArray(data) ? data : [typeof data === 'string' ? Buffer.from(data) : data];
  let fd: number | null = null;
  try {
    fd = openSync(temp, 'w', 0o644);
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) written += writeSync(fd, chunk, written, chunk.byteLength - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, path);
  } catch (err) {
    if (fd !== null) closeSync(fd);
    rmSync(temp, { force: true });
    throw new Error(`could not write ${path}: ${(err as Error).message}`);
  }
}

export interface AtomicWriteOptions {
  /**
   * Flush to disk before the rename (default true). Without it a power cut may leave an empty or
   * short file under the final name: acceptable only for data whose reader validates and rebuilds it.
   */
  fsync?: boolean;
}

/** The asynchronous form, for code that must not block the event loop (the data layer, workers). */
export async function writeFileAtomicAsync(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tempPath, 'wx');
  try {
    await handle.writeFile(data);
    // fsync before rename: otherwise the rename can reach the disk before the bytes do.
    if (options.fsync ?? true) await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(tempPath, path);
  } catch (error) {
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
}

// The temp names above: `.<name>.tmp-<pid>-<random>` and `.<name>.<pid>.<hex>.tmp`.
const TEMP_PATTERNS = [/^\..+\.tmp-(\d+)-[a-z0-9]+$/, /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/];

/**
 * Removes the temp files that writers killed mid-write left in `dir` (never one of a live process).
 * Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const match = TEMP_PATTERNS.map((pattern) => pattern.exec(name)).find((m) => m !== null);
    if (!match) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processExists(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
