// `aplnet explain`: every explanation method for one image, drawn, and measured by deletion and
// insertion curves against a random-map baseline, so a user can see which maps are worth trusting.
import { mkdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { loadImageForInference } from '../data/index.js';
import { inferenceImageToTensor } from '../data/to-tensor.js';
import { EXPLAIN_METHODS, deletionCurve, explain, heatMapOf, insertionCurve, randomMaps, renderHeatmap, renderOverlay } from '../explain/index.js';
import { writeFileAtomic } from '../io/index.js';
import { faithfulnessChartSvg, type FaithfulnessSeries } from '../report/index.js';
import { cat, tidy, type Tensor } from '../torch/index.js';
import { predictImages } from './predict-images.js';
import { inputPng } from './prediction-images.js';
import type { LoadedRun } from './load-run.js';

export interface ExplainImageOptions {
  /** Class to explain, by name; default the predicted class. */
  targetClass?: string;
  opacity?: number;
  /** Points on each deletion / insertion curve, minus one. */
  steps?: number;
}

export interface ImageExplanationReport {
  file: string;
  predicted: string;
  /** The calibrated top probability is below the run's threshold: refer rather than trust the label. */
  refer: boolean;
  explainedClass: string;
  probabilities: Record<string, number>;
  /** Per method (and 'random'): the deletion and insertion curves with their AUC. */
  faithfulness: Record<string, { deletion: { fractions: number[]; probabilities: number[]; auc: number }; insertion: { fractions: number[]; probabilities: number[]; auc: number } }>;
  files: string[];
}

export async function explainImage(run: LoadedRun, file: string, outDir: string, { targetClass, opacity = 0.45, steps = 20 }: ExplainImageOptions = {}): Promise<ImageExplanationReport> {
  if (targetClass !== undefined && !run.classNames.includes(targetClass)) {
    throw new Error(`--target "${targetClass}" is not a class of this run; its classes are ${run.classNames.join(', ')}`);
  }
  // The call itself comes from the one prediction core, so explain shows what predict would say.
  const [prediction] = await predictImages(run, [file]);
  if (!prediction.ok) throw new Error(prediction.message);
  const image = await loadImageForInference(file, run.inference);
  const device = run.model.parameters()[0]?.device ?? 'cpu';
  const size = run.inference.preprocessing.size;
  const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'image';
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    const path = join(outDir, `${stem}.${name}`);
    writeFileAtomic(path, data);
    files.push(path);
  };

  const x = inferenceImageToTensor(image, device);
  const maps = new Map<string, Tensor>();
  try {
    const target = run.classNames.indexOf(targetClass ?? prediction.predicted);
    const picture = { data: image.pixels, width: size, height: size };
    write('input.png', await inputPng(prediction));
    for (const method of EXPLAIN_METHODS) {
      const map = explain(run.model, x, { method, target: [target] });
      maps.set(method, map);
      const heat = heatMapOf(map, 0);
      const name = method.replace('++', 'pp');
      write(`${name}.overlay.png`, await renderOverlay(picture, heat, { opacity }));
      write(`${name}.heatmap.png`, await renderHeatmap(heat));
    }
    maps.set('random', randomMaps(1, size, size, { seed: 0 }));

    // All maps in one batch (the image repeated once per map): one forward per curve point, not one per map.
    const methods = [...maps.keys()];
    const curves = tidy(() => {
      const images = cat(methods.map(() => x), 0);
      const stacked = cat(methods.map((m) => maps.get(m)!), 0);
      const targets = methods.map(() => target);
      return { deletion: deletionCurve(run.model, images, stacked, targets, { steps }), insertion: insertionCurve(run.model, images, stacked, targets, { steps }) };
    });
    const faithfulness: ImageExplanationReport['faithfulness'] = {};
    const series: FaithfulnessSeries[] = [];
    methods.forEach((method, i) => {
      const curveOf = (mode: 'deletion' | 'insertion') => ({ fractions: curves[mode].fractions, probabilities: curves[mode].probabilities[i], auc: curves[mode].auc[i] });
      faithfulness[method] = { deletion: curveOf('deletion'), insertion: curveOf('insertion') };
      for (const mode of ['deletion', 'insertion'] as const) series.push({ method, mode, ...faithfulness[method][mode] });
    });
    const report: ImageExplanationReport = {
      file,
      predicted: prediction.predicted,
      refer: prediction.refer,
      explainedClass: run.classNames[target],
      probabilities: prediction.probabilities,
      faithfulness,
      files,
    };
    write('faithfulness.svg', await faithfulnessChartSvg(series, `${basename(file)}: explained class ${run.classNames[target]}`));
    write('faithfulness.json', `${JSON.stringify({ ...report, files: undefined }, null, 2)}\n`);
    return report;
  } finally {
    x.dispose();
    for (const map of maps.values()) map.dispose();
  }
}
