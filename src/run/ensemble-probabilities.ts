// Every image of a labelled dataset through a run, one model or an ensemble: each model reads the
// dataset in its own normalisation (in the asked TTA mode), and the calibrated probabilities are
// the mean over the models of each one's softmax at its own temperature. evaluate (ensembles) and
// distill (the teacher's soft targets) both read them from here.
import type { PreparedDataset } from '../data/index.js';
import type { CollectedLogits } from '../eval/index.js';
import { collectLogitsInMode, type TtaMode } from '../train/index.js';
import { datasetOptionsOf, type DatasetReadOptions } from './dataset-options.js';
import { meanCalibratedProbabilities } from './ensemble-pass.js';
import { prepareAllAsTest } from './evaluate-run.js';
import type { LoadedRun } from './load-run.js';

export type { DatasetReadOptions };

export interface ModelsOnDataset {
  /** Each model's logits (in `tta` mode) over the same images, in the same order. */
  perModel: CollectedLogits[];
  /** [N, C] mean of the models' calibrated probabilities. */
  calibrated: Float64Array;
}

/**
 * Every image of `data` through every model of `run` (calibrations required). `inspect` sees the
 * last model's prepared dataset (counts, skipped images) before it is closed.
 */
export async function modelsOnDataset(run: LoadedRun, data: string, tta: TtaMode, options: DatasetReadOptions, inspect?: (dataset: PreparedDataset) => void): Promise<ModelsOnDataset> {
  const models = run.members ?? [run];
  const perModel: CollectedLogits[] = [];
  let dataset: PreparedDataset | null = null;
  try {
    for (const model of models) {
      await dataset?.close();
      dataset = await prepareAllAsTest(data, datasetOptionsOf(model, options));
      const loader = dataset.loader('test', { batchSize: options.batchSize ?? 64, order: 'sequential', seed: 0, augmentation: null });
      perModel.push(await collectLogitsInMode(model.model, loader, model.model.parameters()[0]?.device ?? 'cpu', tta));
    }
    inspect?.(dataset!);
  } finally {
    await dataset?.close();
  }
  const first = perModel[0];
  if (perModel.some((m) => m.paths.join('\n') !== first.paths.join('\n'))) throw new Error(`the members of ${run.dir} read different images of ${data} (one could not be read by another); try again`);
  const temperatures = models.map((model) => {
    if (!model.calibration) throw new Error(`${model.dir} has no calibration fitted for its weights; run "aplnet evaluate ${run.dir}" to refit it`);
    return model.calibration.temperature;
  });
  return { perModel, calibrated: meanCalibratedProbabilities(perModel.map((m) => m.logits), temperatures, run.classNames.length) };
}
