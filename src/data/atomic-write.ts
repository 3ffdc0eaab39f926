import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers only ever see the old content or the complete new content:
 * a crash or a full disk mid-write leaves at most a stray temp file, never a half-written target.
 * The temp file lives in the target's folder because rename is only atomic within one filesystem.
 */
export interface AtomicWriteOptions {
  /**
   * Flush to disk before the rename (default true). Without it a power cut may leave an empty or
   * short file under the final name: acceptable only for data whose reader validates and rebuilds it.
   */
  fsync?: boolean;
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
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
