import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { smearAugmentation } from '../src/data/augmentation.js';
import type { Augmentation } from '../src/data/augmentation.js';
import { prepareDataset, type PreparedDataset } from '../src/data/dataset.js';

export interface LoaderBenchOptions {
  /** Dataset folder; default ../shared/data/pbc-8class as seen from the repository. */
  root?: string;
  /** aplnet-s input size. */
  size?: number;
  batchSize?: number;
  workers?: number;
}

export interface LoaderBenchResult {
  /** First run: read, hash, decode and resize with sharp, write the pixel cache. */
  decode_img_s: number;
  /** Later epochs without augmentation: cache read + normalisation into NCHW batches. */
  cached_img_s: number;
  /** Later epochs with the default smear augmentation. */
  augmented_img_s: number;
}

async function epochRate(dataset: PreparedDataset, batchSize: number, augmentation: Augmentation | null): Promise<number> {
  const loader = dataset.loader('train', { batchSize, order: 'shuffle', seed: 0, augmentation });
  const started = performance.now();
  let images = 0;
  for await (const batch of loader.epoch(1)) images += batch.y.length;
  return images / ((performance.now() - started) / 1000);
}

/** Loader throughput over a whole dataset in img/s; the caller divides by the model's training img/s. */
export async function benchLoader(options: LoaderBenchOptions = {}): Promise<LoaderBenchResult> {
  const root = options.root ?? resolve(fileURLToPath(import.meta.url), '../../../../shared/data/pbc-8class');
  const batchSize = options.batchSize ?? 64;
  const cacheDir = await mkdtemp(join(tmpdir(), 'aplnet-bench-cache-'));
  try {
    const datasetOptions = {
      source: root,
      preprocessing: { size: options.size ?? 144, resize: 'center-crop' as const },
      cacheDir,
      split: { kind: 'holdout' as const, fractions: { train: 1, val: 0, test: 0 }, seed: 0 },
      workers: options.workers ?? 2,
    };
    const started = performance.now();
    const cold = await prepareDataset(datasetOptions);
    const decode_img_s = cold.summary.decoded / ((performance.now() - started) / 1000);
    await cold.close();
    const warm = await prepareDataset(datasetOptions);
    try {
      const cached_img_s = await epochRate(warm, batchSize, null);
      const augmented_img_s = await epochRate(warm, batchSize, smearAugmentation);
      return { decode_img_s, cached_img_s, augmented_img_s };
    } finally {
      await warm.close();
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const round = (value: number) => Math.round(value * 10) / 10;
  const result = await benchLoader();
  console.log(JSON.stringify(Object.fromEntries(Object.entries(result).map(([key, value]) => [key, round(value)]))));
}
