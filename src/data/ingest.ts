import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { BadImageLog } from './bad-image-log.js';
import { contentHash } from './content-hash.js';
import { DataError } from './errors.js';
import type { FileIndex } from './file-index.js';
import type { ConversionNote } from './image-decode.js';
import type { ImageStore } from './image-store.js';
import { mapConcurrent } from './map-concurrent.js';
import type { SampleRecord } from './sources.js';

export interface IngestedSample extends SampleRecord {
  hash: string;
  notes: ConversionNote[];
}

export interface IngestResult {
  samples: IngestedSample[];
  cacheHits: number;
  decoded: number;
}

function fileError(path: string, error: unknown): DataError {
  if (error instanceof DataError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new DataError(path, 'missing-file', 'listed but not found; fix the path in the manifest or restore the file');
  return new DataError(path, 'unreadable', `cannot be read (${code ?? (error as Error).message}); check its permissions`);
}

/**
 * Hashes and decodes every listed image once, which both validates it (truncation only shows on
 * a full decode) and fills the pixel cache. With a warm cache and unchanged files this reads
 * nothing but file metadata and cache entries.
 */
export async function ingestSamples(
  samples: SampleRecord[],
  store: ImageStore,
  badImages: BadImageLog,
  fileIndex: FileIndex | undefined,
  concurrency = 2 * availableParallelism(),
): Promise<IngestResult> {
  let cacheHits = 0;
  let decoded = 0;
  const results = await mapConcurrent(samples, concurrency, async (sample): Promise<IngestedSample | DataError> => {
    try {
      let hash: string;
      let bytes: Buffer | undefined;
      if (fileIndex) {
        ({ hash, bytes } = await fileIndex.hash(sample.path));
      } else {
        bytes = await readFile(sample.path);
        hash = contentHash(bytes);
      }
      const image = await store.base({ path: sample.path, hash }, bytes);
      if (image.fromCache) cacheHits++;
      else decoded++;
      return { ...sample, hash, notes: image.notes };
    } catch (error) {
      return fileError(sample.path, error);
    }
  });
  await fileIndex?.save();
  const ingested: IngestedSample[] = [];
  // Reported in listing order, so a 'fail' run always names the same first bad file.
  for (const result of results) {
    if (result instanceof DataError) badImages.report(result);
    else ingested.push(result);
  }
  return { samples: ingested, cacheHits, decoded };
}
