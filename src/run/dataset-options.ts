// How a run's model reads a dataset for inference: its classes, decoding, stain normalisation and
// channel statistics, with the run's cache, workers and seed unless the caller overrides them.
// evaluate, the OOD refit and the ensemble passes all read data this one way.
import { DEFAULT_CACHE_DIR } from '../train/index.js';
import type { LoadedRun } from './load-run.js';

export interface DatasetReadOptions {
  cacheDir?: string;
  workers?: number;
  batchSize?: number;
}

/** How one model of the run reads a dataset: its classes, decoding, stain normalisation and channel statistics. */
export function datasetOptionsOf(model: LoadedRun, options: DatasetReadOptions) {
  const training = model.config.training;
  return {
    classNames: model.classNames,
    preprocessing: model.inference.preprocessing,
    limits: model.inference.limits,
    stainNormalization: model.inference.stainNormalizer,
    channelStats: model.inference.channelStats,
    onBadImage: 'skip' as const,
    cacheDir: options.cacheDir ?? training.cacheDir ?? DEFAULT_CACHE_DIR,
    workers: options.workers ?? training.workers,
    seed: training.seed,
  };
}
