import { availableParallelism } from 'node:os';
import type { BadImageLog } from './bad-image-log.js';
import { contentHash } from './content-hash.js';
import { DataError } from './errors.js';
import { fileError, readRegularFile } from './files/regular-file.js';
import type { FileIndex } from './file-index.js';
import type { ConversionNote } from './decode/image-decode.js';
import type { ImageStore } from './image-store.js';
import { mapConcurrent } from './map-concurrent.js';
import type { SampleRecord } from './sources/source-types.js';

export interface IngestedSample extends SampleRecord {
  hash: string;
  notes: ConversionNote[];
}

export interface IngestResult {
  samples: IngestedSample[];
  cacheHits: number;
  decoded: number;
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
        bytes = await readRegularFile(sample.path);
        hash = contentHash(bytes);
      }
      const image = await store.base({ path: sample.path, hash }, bytes);
      if (image.fromCache) cacheHits++;
      else decoded++;
      return { ...sample, hash, notes: image.notes };
    } catch (error) {
      return await fileError(sample.path, error);
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
