import { readFile } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../io/index.js';
import { shortHash } from './content-hash.js';
import { DataError } from './errors.js';
import { applyMacenko, fitMacenko, type MacenkoParams } from './macenko.js';
import { applyReinhard, fitReinhard, type ReinhardParams } from './reinhard.js';

export type StainNormalizationMethod = 'none' | 'macenko' | 'reinhard';

/** Fitted parameters: plain JSON, saved with the run so inference applies exactly what training did. */
export type StainNormalizer = { method: 'none' } | MacenkoParams | ReinhardParams;

export const noStainNormalization: StainNormalizer = { method: 'none' };

export function fitStainNormalizer(method: StainNormalizationMethod, trainingImages: Uint8Array[]): StainNormalizer {
  if (method === 'none') return noStainNormalization;
  if (trainingImages.length === 0) throw new DataError('stain-normalization', 'bad-config', 'no training images to fit it on');
  return method === 'macenko' ? fitMacenko(trainingImages) : fitReinhard(trainingImages);
}

export function applyStainNormalizer(normalizer: StainNormalizer, pixels: Uint8Array): Uint8Array {
  switch (normalizer.method) {
    case 'none':
      return pixels;
    case 'macenko':
      return applyMacenko(normalizer, pixels);
    case 'reinhard':
      return applyReinhard(normalizer, pixels);
  }
}

/** Part of the pixel-cache key: different fitted parameters must never share cached pixels. */
export function stainNormalizerId(normalizer: StainNormalizer): string {
  return normalizer.method === 'none' ? 'none' : `${normalizer.method}-${shortHash(JSON.stringify(normalizer))}`;
}

export function parseStainNormalizer(value: unknown, file = 'stain-normalizer'): StainNormalizer {
  const candidate = value as Partial<StainNormalizer> | null;
  const isTriple = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (candidate?.method === 'none') return noStainNormalization;
  if (candidate?.method === 'reinhard' && isTriple(candidate.mean) && isTriple(candidate.std)) return candidate as ReinhardParams;
  if (
    candidate?.method === 'macenko' &&
    Array.isArray(candidate.stainVectors) &&
    candidate.stainVectors.length === 2 &&
    candidate.stainVectors.every(isTriple) &&
    Array.isArray(candidate.maxConcentrations) &&
    candidate.maxConcentrations.length === 2
  ) {
    return candidate as MacenkoParams;
  }
  throw new DataError(file, 'bad-config', 'not a stain normalizer: expected {"method":"none"|"macenko"|"reinhard", ...fitted parameters}');
}

export async function saveStainNormalizer(path: string, normalizer: StainNormalizer): Promise<void> {
  await writeFileAtomicAsync(path, `${JSON.stringify(normalizer, null, 2)}\n`);
}

export async function loadStainNormalizer(path: string): Promise<StainNormalizer> {
  return parseStainNormalizer(JSON.parse(await readFile(path, 'utf8')), path);
}
