import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomicAsync } from '../io/index.js';
import { contentHash } from './content-hash.js';
import { readRegularFile, regularFileStat } from './files/regular-file.js';

interface FileIndexEntry {
  size: number;
  mtimeMs: number;
  hash: string;
}

export interface HashedFile {
  hash: string;
  /** The bytes, when they had to be read to hash them (so the caller need not read them again). */
  bytes?: Buffer;
}

/**
 * Remembers each file's content hash with its size and mtime. Size+mtime unchanged means the
 * hash is reused without reading the file; any change means the file is read and hashed again,
 * which in turn selects a different pixel-cache entry. That is what invalidates the cache.
 */
export class FileIndex {
  private dirty = false;

  private constructor(
    private readonly path: string,
    private readonly entries: Map<string, FileIndexEntry>,
  ) {}

  static async open(cacheDir: string): Promise<FileIndex> {
    const path = join(cacheDir, 'file-index.json');
    let entries = new Map<string, FileIndexEntry>();
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { version: number; entries: Record<string, FileIndexEntry> };
      if (parsed.version === 1) entries = new Map(Object.entries(parsed.entries));
    } catch {
      // A missing or damaged index only costs re-hashing; it is rebuilt on save.
    }
    return new FileIndex(path, entries);
  }

  /** Throws a DataError for anything but a readable regular file (missing, FIFO, dangling link, ...). */
  async hash(file: string): Promise<HashedFile> {
    const info = await regularFileStat(file);
    const known = this.entries.get(file);
    if (known && known.size === info.size && known.mtimeMs === info.mtimeMs) return { hash: known.hash };
    const bytes = await readRegularFile(file);
    const hash = contentHash(bytes);
    this.entries.set(file, { size: info.size, mtimeMs: info.mtimeMs, hash });
    this.dirty = true;
    return { hash, bytes };
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomicAsync(this.path, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) }));
    this.dirty = false;
  }
}
