// `aplnet explain` on one image, many files or folders: the call comes from the one prediction core
// (predictImages), every method the model can produce is computed and measured (explain-batch.ts),
// each image's files are written as its chunk finishes, and one CSV gathers the measures. An input
// that cannot be read or predicted is listed with its reason and never stops the rest.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { applicableMethods, EXPLAIN_METHODS, type ExplainMethod } from '../explain/index.js';
import { writeFileAtomic } from '../io/index.js';
import { explainPredictions, RANDOM_BASELINE, type MapMeasures } from './explain-batch.js';
import { explainCsv, meanMeasures, type ExplainedRow } from './explain-csv.js';
import { writeImageExplanation } from './explain-image.js';
import type { LoadedRun } from './load-run.js';
import { predictImages, type ImageFailure, type ImagePrediction } from './predict-images.js';

export interface ExplainImagesOptions {
  /** Class to explain, by name; default each image's predicted class. */
  targetClass?: string;
  opacity?: number;
  /** Points on each deletion / insertion curve, minus one. */
  steps?: number;
  /** Overrides the run's referral threshold. */
  threshold?: number;
  /** A file-system-safe, unique name per input, for its files (default: the input's position). */
  stems?: string[];
  /** Inputs already found unreadable while listing them (e.g. a FIFO in a folder): reported with the rest. */
  skipped?: ImageFailure[];
}

export interface ExplainImagesReport {
  /** Methods computed, in EXPLAIN_METHODS order; the random baseline is measured beside them. */
  methods: ExplainMethod[];
  notApplicable: { method: ExplainMethod; reason: string }[];
  images: (ExplainedRow & { files: string[] })[];
  failures: ImageFailure[];
  /** Per method and 'random': the mean of each measure over the explained images. */
  summary: Record<string, MapMeasures>;
  csv: string;
}

export const EXPLAIN_CSV = 'explain.csv';

export async function explainImages(run: LoadedRun, inputs: readonly string[], outDir: string, options: ExplainImagesOptions = {}): Promise<ExplainImagesReport> {
  const { stems = inputs.map((_, i) => `image-${i + 1}`), steps = 20 } = options;
  if (stems.length !== inputs.length) throw new Error(`explain: ${stems.length} names for ${inputs.length} inputs`);
  if (options.targetClass !== undefined && !run.classNames.includes(options.targetClass)) {
    throw new Error(`--target "${options.targetClass}" is not a class of this run; its classes are ${run.classNames.join(', ')}`);
  }
  const { methods, notApplicable } = applicableMethods(run.model, EXPLAIN_METHODS);
  const results = await predictImages(run, inputs, { threshold: options.threshold });
  const predictions = results.filter((r): r is ImagePrediction => r.ok);
  const failures = [...results.filter((r): r is ImageFailure => !r.ok), ...(options.skipped ?? [])];
  const stemOf = new Map(inputs.map((file, i) => [file, stems[i]]));
  mkdirSync(outDir, { recursive: true });

  const images: ExplainImagesReport['images'] = [];
  await explainPredictions(run, predictions, { methods, targetClass: options.targetClass, steps }, async ({ images: chunk, fractions }) => {
    for (const image of chunk) {
      const { prediction } = image;
      const files = await writeImageExplanation(image, outDir, stemOf.get(prediction.file)!, { opacity: options.opacity, fractions });
      images.push({
        file: prediction.file,
        predicted: prediction.predicted,
        probability: prediction.confidence,
        refer: prediction.refer,
        explainedClass: image.explainedClass,
        maskAreaFraction: image.mask.areaFraction,
        measures: image.measures,
        files,
      });
    }
  });
  const names = [...methods, RANDOM_BASELINE];
  const csv = join(outDir, EXPLAIN_CSV);
  writeFileAtomic(csv, explainCsv(images, failures, names, notApplicable));
  return { methods, notApplicable, images, failures, summary: images.length ? meanMeasures(images, names) : {}, csv };
}
