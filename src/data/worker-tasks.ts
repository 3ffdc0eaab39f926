import { augmentImage, type Augmentation } from './augmentation.js';
import { writeNormalizedChw, type ChannelStats } from './channel-stats.js';
import { randomFor } from './prng.js';
import { applyStainNormalizer, type StainNormalizer } from './stain-normalizer.js';

/**
 * The CPU-heavy pixel work, as pure functions of plain data, so it runs the same on the main
 * thread or in a worker. Each item carries its own seed: results never depend on scheduling.
 */
export interface BatchItem {
  pixels: Uint8Array;
  width: number;
  height: number;
  /** Seed parts (seed, epoch, position, index); null means no augmentation for this item. */
  seedParts: number[] | null;
}

export interface AugmentNormalizeTask {
  kind: 'augment-normalize';
  items: BatchItem[];
  augmentation: Augmentation | null;
  stats: ChannelStats;
}

export interface StainNormalizeTask {
  kind: 'stain-normalize';
  images: Uint8Array[];
  normalizer: StainNormalizer;
}

export type WorkerTask = AugmentNormalizeTask | StainNormalizeTask;

/** NCHW float32 for the items, in order. */
export function augmentAndNormalize(task: AugmentNormalizeTask): Float32Array {
  const plane = task.items.length === 0 ? 0 : task.items[0].width * task.items[0].height;
  const out = new Float32Array(task.items.length * 3 * plane);
  task.items.forEach((item, n) => {
    const image = { pixels: item.pixels, width: item.width, height: item.height };
    const augmented = task.augmentation && item.seedParts ? augmentImage(image, task.augmentation, randomFor(...item.seedParts)) : image;
    writeNormalizedChw(augmented.pixels, task.stats, out, n * 3 * plane);
  });
  return out;
}

export function stainNormalizeAll(task: StainNormalizeTask): Uint8Array[] {
  return task.images.map((pixels) => applyStainNormalizer(task.normalizer, pixels));
}

export function runTask(task: WorkerTask): Float32Array | Uint8Array[] {
  return task.kind === 'augment-normalize' ? augmentAndNormalize(task) : stainNormalizeAll(task);
}
