// How test-time augmentation over the dihedral group should combine its eight views, decided on the
// validation split only: one view, the mean of the views' logits (one temperature fitted on that
// mean), or the mean of the views' probabilities (one temperature applied to every view, fitted on
// the mean's NLL). Each is reported on validation and, for the record, on test.
import { prepareDataset } from '../src/data/index.js';
import { batchToTensors } from '../src/data/to-tensor.js';
import { accuracy, confusionMatrix, fitTemperature, macroF1, negativeLogLikelihood, perClassMetrics, predictedClasses, softmaxRows, type Rows } from '../src/eval/index.js';
import { loadRun } from '../src/run/index.js';
import { DEFAULT_CACHE_DIR, runPath } from '../src/train/index.js';
import { DIHEDRAL_VIEWS, dihedralBatch, noGrad, tidy } from '../src/torch/index.js';

export type ViewCombination = 'one-view' | 'mean-logits' | 'mean-probabilities';

export interface SplitFigures {
  accuracy: number;
  macro_f1: number;
  /** Calibrated NLL (temperature fitted on validation for this combination). */
  nll: number;
}

/** Every view's logits: views[v] is the [N, C] rows of view v, in the loader's order. */
interface ViewLogits {
  views: Rows[];
  labels: number[];
}

async function viewLogits(runDir: string, split: 'val' | 'test'): Promise<ViewLogits> {
  const run = await loadRun(runDir, { calibration: 'optional' });
  const training = run.config.training;
  const dataset = await prepareDataset({
    source: training.data, classNames: run.classNames, preprocessing: run.inference.preprocessing, limits: run.inference.limits,
    stainNormalization: run.inference.stainNormalizer, channelStats: run.inference.channelStats, onBadImage: 'skip',
    cacheDir: training.cacheDir ?? DEFAULT_CACHE_DIR, seed: training.seed, split: { kind: 'file', path: runPath(run.dir, 'split') },
  });
  const classes = run.classNames.length;
  const views: number[][][] = DIHEDRAL_VIEWS.map(() => []);
  const labels: number[] = [];
  try {
    for await (const batch of dataset.loader(split, { batchSize: 64, order: 'sequential', seed: 0, augmentation: null }).epoch(0)) {
      const flat = tidy(() => noGrad(() => run.model.forward(dihedralBatch(batchToTensors(batch, 'cpu').x)).logits.to('float32').data<'float32'>()));
      const n = batch.y.length;
      for (let v = 0; v < DIHEDRAL_VIEWS.length; v++) {
        for (let i = 0; i < n; i++) views[v].push(Array.from(flat.subarray((v * n + i) * classes, (v * n + i + 1) * classes)));
      }
      labels.push(...batch.y);
    }
  } finally {
    await dataset.close();
    run.model.dispose();
  }
  return { views, labels };
}

const meanRows = (rows: Rows[]): Rows => Array.from(rows[0], (first, i) => Array.from(first, (_, k) => rows.reduce((sum, r) => sum + r[i][k], 0) / rows.length));
const scaled = (rows: Rows, temperature: number): Rows => rows.map((row) => Array.from(row, (z) => z / temperature));

/** Mean over views of softmax(z / T). */
function meanProbabilities(views: Rows[], temperature: number): Rows {
  return meanRows(views.map((rows) => softmaxRows(scaled(rows, temperature))));
}

/** The temperature minimising the NLL of the mean of the views' probabilities: golden-section search in log T. */
function fitMeanProbabilityTemperature(views: Rows[], labels: number[]): number {
  const nll = (logT: number) => negativeLogLikelihood(meanProbabilities(views, Math.exp(logT)), labels);
  let low = Math.log(0.05), high = Math.log(20);
  const ratio = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const a = high - ratio * (high - low), b = low + ratio * (high - low);
    if (nll(a) < nll(b)) high = b; else low = a;
  }
  return Math.exp((low + high) / 2);
}

function figures(probabilities: Rows, labels: number[]): SplitFigures {
  const matrix = confusionMatrix(labels, predictedClasses(probabilities), probabilities[0].length);
  const names = Array.from(probabilities[0], (_, k) => String(k));
  return { accuracy: accuracy(matrix), macro_f1: macroF1(perClassMetrics(matrix, names)), nll: negativeLogLikelihood(probabilities, labels) };
}

/** Validation and test figures of each combination for one run; the temperature of each is fitted on validation. */
export async function measureViewCombinations(runDir: string): Promise<Record<ViewCombination, { temperature: number; val: SplitFigures; test: SplitFigures }>> {
  const val = await viewLogits(runDir, 'val');
  const test = await viewLogits(runDir, 'test');
  const oneT = fitTemperature(val.views[0], val.labels).temperature;
  const meanLogitsT = fitTemperature(meanRows(val.views), val.labels).temperature;
  const meanProbT = fitMeanProbabilityTemperature(val.views, val.labels);
  const oneView = (set: ViewLogits) => figures(softmaxRows(scaled(set.views[0], oneT)), set.labels);
  const meanLogits = (set: ViewLogits) => figures(softmaxRows(scaled(meanRows(set.views), meanLogitsT)), set.labels);
  const meanProbs = (set: ViewLogits) => figures(meanProbabilities(set.views, meanProbT), set.labels);
  return {
    'one-view': { temperature: oneT, val: oneView(val), test: oneView(test) },
    'mean-logits': { temperature: meanLogitsT, val: meanLogits(val), test: meanLogits(test) },
    'mean-probabilities': { temperature: meanProbT, val: meanProbs(val), test: meanProbs(test) },
  };
}
