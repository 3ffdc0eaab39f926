// Writes a file so that readers see either the old content or the whole new one, never a part:
// write a temp file beside it (rename is only atomic within one filesystem), fsync, then rename
// over the target. A crash or full disk leaves at most a stray temp file, never a half-written target.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

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
