// `npm run bench -- explain [--run DIR] [--steps N] [--limit N] [--split test|val] [--methods a,b]`: issue 10's measures of every map the
// model can produce, over the run's test split of pbc-8class: cell energy (share of the map on a
// nucleated-cell mask made from each image), deletion and insertion AUC, the model-randomisation
// check (Spearman rho against a re-initialised model) and flatness on constant, blank and noise
// images, beside a seeded random-map baseline. The run is RUN=path (or --run); without one the
// default `aplnet train` recipe is trained here first, and the output says which.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSplitFile, readSource } from '../src/data/index.js';
import { applicableMethods, checkExplainMethods, defaultExplainMethod, mapFlatness, reinitializedModel, type ExplainMethod } from '../src/explain/index.js';
import { explainPredictions, loadRun, meanMeasures, predictImages, RANDOM_BASELINE, runPath, type ExplainedRow, type ImagePrediction, type MapMeasures } from '../src/run/index.js';
import { setNumThreads } from '../src/torch/index.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DEFAULT_DATA = '../shared/data/pbc-8class';

export interface ExplainBenchOptions {
  run?: string;
  data?: string;
  steps?: number;
  threads?: number;
  /** At most this many test images (a quick look; the figures of record use all). */
  limit?: number;
  /** 'test' (the figures of record) or 'val': the validation split, for choosing a design without touching test. */
  split?: string;
  /** Comma-separated methods to measure (a quicker screen); default every method the model has. */
  methods?: string;
}

/** The class without a nucleus, whose cell mask means nothing: reported apart. */
const PLATELET = 'platelet';
const round = (value: number): number => Math.round(value * 10000) / 10000;
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

function trainDefaultRecipe(data: string, threads: number): string {
  const out = join(mkdtempSync(join(tmpdir(), 'aplnet-bench-explain-')), 'run');
  console.error(`no RUN given: training the default recipe (aplnet train ${data} --out ${out}) first`);
  const trained = spawnSync(process.execPath, [CLI, 'train', data, '--out', out, '--threads', String(threads)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (trained.status !== 0) throw new Error(`training the default recipe failed (exit ${trained.status}); see the lines above`);
  return out;
}

/** One split of the run (test by default): the files split.json assigns to it, with their labels. */
async function testSplit(runDir: string, data: string, classNames: string[], name = 'test'): Promise<{ paths: string[]; labels: string[] }> {
  if (name !== 'test' && name !== 'val') throw new Error(`--split must be test or val, got "${name}"`);
  const split = await loadSplitFile(runPath(runDir, 'split'));
  const source = await readSource(data, { classNames });
  const test = source.samples.filter((sample) => split.assignments[sample.key] === name);
  if (test.length === 0) throw new Error(`no image of ${data} is in the ${name} split of ${runPath(runDir, 'split')}: is this the data the run was trained on?`);
  return { paths: test.map((s) => s.path), labels: test.map((s) => s.label) };
}

const roundedMeasures = (m: MapMeasures): MapMeasures => ({ cell_energy: round(m.cell_energy), deletion_auc: round(m.deletion_auc), insertion_auc: round(m.insertion_auc) });
const rounded = (summary: Record<string, MapMeasures>): Record<string, MapMeasures> => Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, roundedMeasures(v)]));

export async function benchExplain(options: ExplainBenchOptions = {}): Promise<Record<string, unknown>> {
  const started = Date.now();
  const threads = options.threads ?? 2;
  const steps = options.steps ?? 20;
  setNumThreads(threads);
  const given = options.run ?? process.env.RUN;
  const data = resolve(options.data ?? DEFAULT_DATA);
  if (!existsSync(data)) throw new Error(`the dataset ${data} does not exist; give --data <pbc-8class folder>`);
  const runDir = given ?? trainDefaultRecipe(data, threads);
  const run = await loadRun(runDir);
  const randomized = reinitializedModel(run.model, 1);
  try {
    const split = await testSplit(runDir, data, run.classNames, options.split ?? 'test');
    const count = Math.min(split.paths.length, options.limit ?? Infinity);
    const results = await predictImages(run, split.paths.slice(0, count));
    const labelOf = new Map(split.paths.map((p, i) => [p, split.labels[i]]));
    const predictions = results.filter((r): r is ImagePrediction => r.ok);
    const asked = options.methods ? String(options.methods).split(',').map((m) => m.trim()).filter(Boolean) : null;
    if (asked) checkExplainMethods(asked);
    const { methods, notApplicable } = applicableMethods(run.model, asked ? (asked as ExplainMethod[]) : undefined);
    console.error(`explaining ${predictions.length} ${options.split ?? 'test'} images with ${methods.join(', ')} and a random baseline (${steps} curve steps, ${threads} threads)`);
    let done = 0;
    const { images } = await explainPredictions(run, predictions, { methods, steps, randomized }, ({ images: chunk }) => {
      done += chunk.length;
      if (done % 80 < chunk.length || done === predictions.length) console.error(`  ${done}/${predictions.length} images, ${Math.round((Date.now() - started) / 1000)} s`);
    });
    const names = [...methods, RANDOM_BASELINE];
    const rows: (ExplainedRow & { label: string })[] = images.map((image) => ({
      file: image.prediction.file, predicted: image.prediction.predicted, probability: image.prediction.confidence, refer: image.prediction.refer,
      explainedClass: image.explainedClass, maskAreaFraction: image.mask.areaFraction, measures: image.measures, label: labelOf.get(image.prediction.file)!,
    }));
    // Cell energy is the share of the map on the nucleated cell; a platelet has no nucleus (its mask
    // is whatever stained blob is at the centre), so, as the issue allows, the headline figures are
    // over the images of nucleated cells and platelets are reported apart (and all images together).
    const flatness = new Map(methods.map((method) => [method, mapFlatness(run.model, method, run.inference.channelStats)]));
    const everyImage = rows.map((row, i) => ({ row, image: images[i] }));
    const nucleated = everyImage.filter(({ row }) => row.label !== PLATELET);
    /** Every method's figures and the random baseline's over a set of images. */
    const summaryOver = (subset: typeof everyImage) => {
      const measured = meanMeasures(subset.map(({ row }) => row), names);
      const maps = Object.fromEntries(methods.map((method) => {
        const flat = flatness.get(method)!;
        const rho = mean(subset.map(({ image }) => image.randomizationRho[method]));
        return [method, { ...roundedMeasures(measured[method]), randomization_rho: round(rho), blank_cv: round(flat.blank), constant_cv: round(flat.constant), noise_cv: round(flat.noise) }];
      }));
      return { maps, random: roundedMeasures(measured[RANDOM_BASELINE]) };
    };
    const headline = summaryOver(nucleated);
    const all = summaryOver(everyImage);
    const platelets = rows.filter((row) => row.label === PLATELET);
    const perClass = Object.fromEntries(run.classNames.map((name) => {
      const of = rows.filter((row) => row.label === name);
      return [name, of.length ? { images: of.length, mask_area: round(mean(of.map((r) => r.maskAreaFraction))), cell_energy: Object.fromEntries(names.map((m) => [m, round(mean(of.map((r) => r.measures[m].cell_energy)))])) } : { images: 0 }];
    }));
    return {
      preset: run.config.model.name,
      accuracy: round(results.filter((r) => r.ok && r.predicted === labelOf.get(r.file)).length / count),
      default_method: defaultExplainMethod(run.model),
      maps: headline.maps,
      random: headline.random,
      images: nucleated.length,
      headline_images: `the ${nucleated.length} images of nucleated cells (every class but ${PLATELET}); platelets apart below, and all ${rows.length} images in maps_all_images`,
      maps_all_images: all.maps,
      random_all_images: all.random,
      split: options.split ?? 'test',
      platelet: platelets.length ? { images: platelets.length, ...rounded(meanMeasures(platelets, names)) } : { images: 0 },
      per_class: perClass,
      mask_area: round(mean(rows.map((r) => r.maskAreaFraction))),
      not_applicable: Object.fromEntries(notApplicable.map(({ method, reason }) => [method, reason])),
      unreadable: count - predictions.length,
      model: given ? `kept from ${resolve(runDir)}` : `trained inside the benchmark with the default recipe (${runDir})`,
      steps,
      threads,
      runtime_s: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    randomized.dispose();
    run.model.dispose();
  }
}
