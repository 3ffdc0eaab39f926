import { readFile } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../io/index.js';
import { parseChannelStats, writeNormalizedChw, type ChannelStats } from './channel-stats.js';
import { DataError } from './errors.js';
import { readRegularFile } from './files/regular-file.js';
import { decodeAndPreprocess, type ConversionNote } from './decode/image-decode.js';
import { defaultDecodeLimits, validatePreprocessing, type DecodeLimits, type Preprocessing } from './preprocessing.js';
import { applyStainNormalizer, parseStainNormalizer, type StainNormalizer } from './stain-normalizer.js';

/**
 * Everything that turns a file into model input, as fitted at training time. Saved in the run
 * folder as preprocessing.json so predict and serve apply exactly what training did.
 */
export interface InferencePreprocessing {
  preprocessing: Preprocessing;
  limits: DecodeLimits;
  stainNormalizer: StainNormalizer;
  channelStats: ChannelStats;
}

export interface InferenceImage {
  /** [1, 3, size, size] normalised float32. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** The preprocessed, stain-normalised RGB pixels (HWC uint8), e.g. for drawing attention overlays. */
  pixels: Uint8Array;
  notes: ConversionNote[];
}

export async function loadImageForInference(input: string | Buffer, inference: InferencePreprocessing): Promise<InferenceImage> {
  const file = typeof input === 'string' ? input : '<uploaded image>';
  // A path is read only if it names a regular file: a FIFO or device would block the read forever.
  const bytes = typeof input === 'string' ? await readRegularFile(input) : input;
  const decoded = await decodeAndPreprocess(bytes, file, inference.preprocessing, inference.limits);
  const pixels = applyStainNormalizer(inference.stainNormalizer, decoded.pixels);
  const size = inference.preprocessing.size;
  const x = new Float32Array(3 * size * size);
  writeNormalizedChw(pixels, inference.channelStats, x, 0);
  return { x, shape: [1, 3, size, size], pixels, notes: decoded.notes };
}

export async function saveInferencePreprocessing(path: string, inference: InferencePreprocessing): Promise<void> {
  await writeFileAtomicAsync(path, `${JSON.stringify(inference, null, 2)}\n`);
}

export async function loadInferencePreprocessing(path: string): Promise<InferencePreprocessing> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<InferencePreprocessing>;
  if (!parsed.preprocessing) throw new DataError(path, 'bad-config', 'has no "preprocessing" section');
  return {
    preprocessing: validatePreprocessing(parsed.preprocessing),
    limits: { ...defaultDecodeLimits, ...parsed.limits },
    stainNormalizer: parseStainNormalizer(parsed.stainNormalizer, path),
    channelStats: parseChannelStats(parsed.channelStats, path),
  };
}
