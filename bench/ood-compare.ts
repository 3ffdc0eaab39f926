// `npm run bench -- ood --compare 1`: the candidate out-of-distribution scores side by side, each
// fitted on the run's training split and measured on its VALIDATION split (never the test split):
// the AUROC of each OOD set made from validation cells (and photographs) against the validation
// images themselves, and the share of each set a threshold flagging 2% of validation images catches;
// and, class by class, how well each tells a cell type left out of its fit from the other types.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyStainNormalizer, fitStainNormalizer, makeOodSets, OOD_SET_NAMES, photoCrop, type RgbImage } from '../src/data/index.js';
import { energyScore, fitClassGaussians, fitOodThreshold, flaggedShare, maxSoftmaxScore, nearestClassMahalanobis, oodAuroc } from '../src/eval/index.js';
import { loadRun } from '../src/run/index.js';
import { setNumThreads } from '../src/torch/index.js';
import { decodeForRun, featuresOf, fixturePhotos, splitImages, type ImageFeatures } from './ood-features.js';

export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/ood/', import.meta.url));
export const PHOTOS = ['photo-astronaut.jpg', 'photo-cat.jpg', 'photo-coffee.jpg', 'photo-rocket.jpg'];

type Score = (features: ImageFeatures) => number[];

const round = (value: number): number => Math.round(value * 10000) / 10000;

function l2(x: Float32Array): Float64Array {
  const norm = Math.hypot(...x) || 1;
  return Float64Array.from(x, (v) => v / norm);
}

function flatten(rows: ArrayLike<number>[]): Float64Array {
  const width = rows[0].length;
  const out = new Float64Array(rows.length * width);
  rows.forEach((row, i) => out.set(Array.from(row), i * width));
  return out;
}

/** Standardises by the training split's mean and sd (floored, so a feature constant in training still counts). */
function standardiser(rows: Float64Array[], floor = 0.01): (row: Float64Array) => Float64Array {
  const width = rows[0].length;
  const mean = new Float64Array(width);
  const sd = new Float64Array(width);
  for (const row of rows) row.forEach((v, i) => (mean[i] += v / rows.length));
  for (const row of rows) row.forEach((v, i) => (sd[i] += (v - mean[i]) ** 2 / rows.length));
  for (let i = 0; i < width; i++) sd[i] = Math.max(Math.sqrt(sd[i]), floor);
  return (row) => row.map((v, i) => (v - mean[i]) / sd[i]);
}

/** kNN distance (Sun et al., ICML 2022): 1 − cosine similarity to the k-th nearest training embedding. */
function knnScore(train: Float64Array[], k: number): (x: Float32Array) => number {
  return (x) => {
    const q = l2(x);
    const sims = train.map((t) => t.reduce((s, v, i) => s + v * q[i], 0)).sort((a, b) => b - a);
    return 1 - sims[k - 1];
  };
}

/**
 * Photographs given the colour statistics of smear crops (Reinhard transfer fitted on the cells):
 * inputs that colour statistics alone cannot tell from a smear, so only the embedding can.
 */
export function inSmearColours(photos: RgbImage[], cells: readonly RgbImage[]): RgbImage[] {
  const smear = fitStainNormalizer('reinhard', cells.slice(0, 64).map((cell) => cell.pixels));
  return photos.map((photo) => ({ ...photo, pixels: applyStainNormalizer(smear, photo.pixels) }));
}

function subset(features: ImageFeatures, rows: number[]): ImageFeatures {
  return { logits: rows.map((i) => features.logits[i]), embeddings: rows.map((i) => features.embeddings[i]), stats: rows.map((i) => features.stats[i]) };
}

/** Every candidate score, fitted on `train` (and, for the combinations, scaled on `val`). */
function fitCandidates(train: ImageFeatures, labels: number[], classes: number, val: ImageFeatures, temperature: number): { candidates: Record<string, Score>; shrinkage: number } {
  const dim = train.embeddings[0].length;
  const gaussians = fitClassGaussians(flatten(train.embeddings), labels, dim, classes);
  const gaussiansL2 = fitClassGaussians(flatten(train.embeddings.map(l2)), labels, dim, classes);
  const standardise = standardiser(train.stats);
  const statsGaussian = fitClassGaussians(flatten(train.stats.map(standardise)), new Array(labels.length).fill(0), train.stats[0].length, 1);
  const knn = knnScore(train.embeddings.map(l2), 10);
  const base: Record<string, Score> = {
    msp: (f) => f.logits.map((z) => maxSoftmaxScore(z)),
    msp_calibrated: (f) => f.logits.map((z) => maxSoftmaxScore(z, temperature)),
    energy: (f) => f.logits.map((z) => energyScore(z)),
    mahalanobis: (f) => f.embeddings.map((e) => nearestClassMahalanobis(gaussians, e)),
    mahalanobis_l2: (f) => f.embeddings.map((e) => nearestClassMahalanobis(gaussiansL2, l2(e))),
    knn10_cosine: (f) => f.embeddings.map(knn),
    image_stats: (f) => f.stats.map((s) => nearestClassMahalanobis(statsGaussian, standardise(s))),
  };
  // A combination: each part divided by its own threshold at the validation 99th percentile, the larger counts.
  const combine = (a: Score, b: Score): Score => {
    const ta = fitOodThreshold(a(val), 0.01);
    const tb = fitOodThreshold(b(val), 0.01);
    return (f) => { const sa = a(f); const sb = b(f); return sa.map((v, i) => Math.max(v / ta, sb[i] / tb)); };
  };
  return {
    candidates: {
      ...base,
      mahalanobis_and_stats: combine(base.mahalanobis, base.image_stats),
      mahalanobis_l2_and_stats: combine(base.mahalanobis_l2, base.image_stats),
      energy_and_stats: combine(base.energy, base.image_stats),
    },
    shrinkage: gaussians.shrinkage,
  };
}

export async function compareOodScores(options: { run?: string; data?: string; threads?: number; share?: number; cells?: number }): Promise<Record<string, unknown>> {
  const started = Date.now();
  setNumThreads(options.threads ?? 2);
  const runDir = options.run ?? process.env.RUN ?? '/tmp/runs/pbc-ap';
  // The candidates are fitted here; the run's own check (if any) is not needed.
  const run = await loadRun(runDir, { calibration: 'optional' });
  if (!run.calibration) throw new Error(`${runDir} has no valid calibration.json; run "aplnet evaluate ${runDir}" first`);
  const data = resolve(options.data ?? run.config.training.data);
  if (!existsSync(data)) throw new Error(`the run's data ${data} is not there; give --data`);
  const share = options.share ?? 0.02;
  try {
    const train = await splitImages(run, data, 'train');
    const val = await splitImages(run, data, 'val');
    console.error(`features of ${train.paths.length} training and ${val.paths.length} validation images …`);
    const trainFeatures = featuresOf(run, await decodeForRun(run, train.paths));
    const valCells = await decodeForRun(run, val.paths);
    const valFeatures = featuresOf(run, valCells);
    const side = run.inference.preprocessing.size;
    const photos = await fixturePhotos(FIXTURES, PHOTOS);
    const cells = valCells.slice(0, options.cells ?? valCells.length);
    const sets = makeOodSets(cells, photos, side, { count: 60, seed: 1 });
    const [ihc] = await fixturePhotos(FIXTURES, ['ihc-tissue.jpg']);
    const extra = { ihc_tissue: Array.from({ length: 30 }, (_, i) => photoCrop(ihc, side, 100 + i)), not_smear_in_smear_colours: inSmearColours(sets.not_smear, cells) };
    console.error(`features of the OOD sets (${Object.values(sets).reduce((n, s) => n + s.length, 0) + 30 + extra.not_smear_in_smear_colours.length} images) …`);
    const setFeatures = Object.fromEntries([...Object.entries(sets), ...Object.entries(extra)].map(([name, images]) => [name, featuresOf(run, images)]));

    const classes = run.classNames.length;
    const temperature = run.calibration!.temperature;
    const { candidates, shrinkage } = fitCandidates(trainFeatures, train.labels, classes, valFeatures, temperature);
    const results: Record<string, unknown> = {};
    for (const [name, score] of Object.entries(candidates)) {
      const id = score(valFeatures);
      const threshold = fitOodThreshold(id, share);
      const perSet: Record<string, { auroc: number; caught: number }> = {};
      for (const [set, features] of Object.entries(setFeatures)) {
        const ood = score(features);
        perSet[set] = { auroc: round(oodAuroc(id, ood)), caught: round(flaggedShare(ood, threshold)) };
      }
      const aurocs = OOD_SET_NAMES.map((set) => perSet[set].auroc);
      results[name] = { min_auroc: Math.min(...aurocs), mean_auroc: round(aurocs.reduce((a, b) => a + b, 0) / aurocs.length), val_flagged: round(flaggedShare(id, threshold)), sets: perSet };
      console.error(`${name.padEnd(26)} min AUROC ${Math.min(...aurocs).toFixed(4)}  ${Object.entries(perSet).map(([s, v]) => `${s} ${v.auroc.toFixed(3)}/${v.caught.toFixed(2)}`).join('  ')}`);
    }
    // A cell type the statistics never saw (same stain and scanner): each class in turn is left out
    // of the fit, and its validation images are the OOD set against the other classes'. The network
    // itself did see the class in training, so this favours the embedding: read it as an upper bound.
    const unseen: Record<string, number[]> = {};
    for (let held = 0; held < classes; held++) {
      const keep = (labels: number[]) => labels.map((label, i) => (label === held ? -1 : i)).filter((i) => i >= 0);
      const trainKept = keep(train.labels);
      const valKept = keep(val.labels);
      const valHeld = val.labels.map((label, i) => (label === held ? i : -1)).filter((i) => i >= 0);
      const fitted = fitCandidates(subset(trainFeatures, trainKept), trainKept.map((i) => train.labels[i]), classes, subset(valFeatures, valKept), temperature).candidates;
      for (const [name, score] of Object.entries(fitted)) (unseen[name] ??= []).push(oodAuroc(score(subset(valFeatures, valKept)), score(subset(valFeatures, valHeld))));
    }
    for (const [name, aurocs] of Object.entries(unseen)) {
      (results[name] as Record<string, unknown>).unseen_cell_type = { mean_auroc: round(aurocs.reduce((a, b) => a + b, 0) / aurocs.length), min_auroc: round(Math.min(...aurocs)), per_class: Object.fromEntries(run.classNames.map((c, k) => [c, round(aurocs[k])])) };
      console.error(`${name.padEnd(26)} unseen cell type: mean AUROC ${(aurocs.reduce((a, b) => a + b, 0) / aurocs.length).toFixed(3)}, min ${Math.min(...aurocs).toFixed(3)}`);
    }
    return {
      run: resolve(runDir), split: 'val', train_images: train.paths.length, val_images: val.paths.length, cells_used: cells.length,
      share_for_caught: share, shrinkage: round(shrinkage), candidates: results, runtime_s: Math.round((Date.now() - started) / 1000),
    };
  } finally {
    run.model.dispose();
  }
}
