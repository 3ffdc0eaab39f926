// `npm run bench -- ood [--run DIR] [--data DIR] [--split test] [--count 60]`: issue 12's
// out-of-distribution figures. The run's own check (ood.json, fitted on its training and
// validation splits) scores, through the prediction core, the images of one split of its data (in
// distribution) and OOD sets made by code from those same cells and from photographs: blank,
// noise, grayscale, washed, not_smear, other_stain (an approximation: H&E- and IHC-like
// recolouring of the cells), and, as extras, crops of a real IHC tissue image and the photographs
// recoloured to a smear's colour statistics (only the embedding can tell those). Each set's AUROC
// against the in-distribution images, and the share the run's threshold flags.
// `--compare 1` instead compares the candidate scores on the validation split (bench/ood-compare.ts).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { makeOodSets, OOD_SET_NAMES, photoCrop, type OodSetName, type RgbImage, type SplitName } from '../src/data/index.js';
import { flaggedShare, oodAuroc } from '../src/eval/index.js';
import { loadRun, predictImages, type LoadedRun, type PredictInput } from '../src/run/index.js';
import { setNumThreads } from '../src/torch/index.js';
import { compareOodScores, FIXTURES, inSmearColours, PHOTOS } from './ood-compare.js';
import { decodeForRun, fixturePhotos, splitImages } from './ood-features.js';

/** The run the figures of record use: a copy of /tmp/runs/pbc-ap with its check fitted by "aplnet evaluate". */
const DEFAULT_RUN = '/tmp/runs/pbc-ap-ood';

export interface OodMeasureOptions {
  /** The run's data (default: what it was trained on). */
  data?: string;
  /** The split whose images are the in-distribution set and the source of the derived OOD sets; default 'test'. */
  split?: SplitName;
  /** Images in each synthetic set (blank, noise, not_smear); default 60. */
  count?: number;
  seed?: number;
}

export type OodAurocs = Record<OodSetName, number>;

const round = (value: number): number => Math.round(value * 10000) / 10000;

async function png(image: RgbImage): Promise<Buffer> {
  return sharp(Buffer.from(image.pixels), { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
}

/** The run's OOD scores of some inputs, through the prediction core; an input that fails stops the benchmark. */
async function scoresOf(run: LoadedRun, inputs: PredictInput[]): Promise<{ scores: number[]; threshold: number }> {
  const checks = (await predictImages(run, inputs)).map((r) => {
    if (!r.ok) throw new Error(`${r.file}: ${r.message}`);
    return r.ood!;
  });
  return { scores: checks.map((c) => c.score), threshold: checks[0]?.threshold ?? NaN };
}

/** Every figure: AUROC and flagged share per set, the in-distribution flag rate, what was measured. */
export async function measureOod(run: LoadedRun, options: OodMeasureOptions = {}): Promise<Record<string, unknown> & { ood_auroc: OodAurocs }> {
  const data = resolve(options.data ?? run.config.training.data);
  if (!existsSync(data)) throw new Error(`the run's data ${data} is not there; give --data`);
  const split = options.split ?? 'test';
  const side = run.inference.preprocessing.size;
  const { paths } = await splitImages(run, data, split);
  console.error(`scoring ${paths.length} ${split} images and the OOD sets made from them …`);
  const id = await scoresOf(run, paths);
  const cells = await decodeForRun(run, paths);
  const sets: Record<string, RgbImage[]> = makeOodSets(cells, await fixturePhotos(FIXTURES, PHOTOS), side, { count: options.count ?? 60, seed: options.seed ?? 1 });
  const [ihc] = await fixturePhotos(FIXTURES, ['ihc-tissue.jpg']);
  sets.ihc_tissue = Array.from({ length: options.count ?? 60 }, (_, i) => photoCrop(ihc, side, 1000 + i));
  sets.not_smear_in_smear_colours = inSmearColours(sets.not_smear, cells);
  const aurocs: Record<string, number> = {};
  const caught: Record<string, number> = {};
  const sizes: Record<string, number> = {};
  for (const [name, images] of Object.entries(sets)) {
    const inputs = await Promise.all(images.map(async (image, i) => ({ name: `${name}-${i}.png`, bytes: await png(image) })));
    const { scores } = await scoresOf(run, inputs);
    aurocs[name] = round(oodAuroc(id.scores, scores));
    caught[name] = round(flaggedShare(scores, id.threshold));
    sizes[name] = images.length;
    console.error(`  ${name}: AUROC ${aurocs[name].toFixed(4)}, ${(caught[name] * 100).toFixed(1)}% flagged (${images.length} images)`);
  }
  const oodAurocs = Object.fromEntries(OOD_SET_NAMES.map((name) => [name, aurocs[name]])) as OodAurocs;
  const record = (run.members ?? [run])[0].ood!.record;
  return {
    ood_auroc: oodAurocs,
    extra_auroc: { ihc_tissue: aurocs.ihc_tissue, not_smear_in_smear_colours: aurocs.not_smear_in_smear_colours },
    flagged_at_threshold: caught,
    in_distribution_flagged: round(flaggedShare(id.scores, id.threshold)),
    in_distribution_images: paths.length,
    set_sizes: sizes,
    split,
    method: record.method,
    threshold: round(id.threshold),
    fitted_flag_share: record.flagShare,
    tta: record.tta,
  };
}

/** The OOD AUROC of each set for a run folder (for the case benchmark): { blank, noise, grayscale, washed, not_smear, other_stain }. */
export async function oodAurocs(runDir: string, options: OodMeasureOptions = {}): Promise<OodAurocs> {
  const run = await loadRun(runDir);
  try {
    return (await measureOod(run, options)).ood_auroc;
  } finally {
    for (const part of run.members ?? [run]) part.model.dispose();
  }
}

export async function benchOod(options: Record<string, string | number>): Promise<Record<string, unknown>> {
  const threads = Number(options.threads ?? 2);
  const common = { run: options.run as string | undefined, data: options.data as string | undefined, threads };
  if (options.compare) return compareOodScores({ ...common, share: options.share as number | undefined, cells: options.cells as number | undefined });
  const started = Date.now();
  setNumThreads(threads);
  const runDir = common.run ?? process.env.RUN ?? DEFAULT_RUN;
  if (!existsSync(runDir)) throw new Error(`${runDir} does not exist: copy /tmp/runs/pbc-ap there and fit its check with "aplnet evaluate ${runDir}" (or give --run)`);
  const run = await loadRun(runDir);
  try {
    const figures = await measureOod(run, { data: common.data, split: (options.split as SplitName | undefined) ?? 'test', count: options.count as number | undefined });
    return { run: resolve(runDir), ...figures, threads, runtime_s: Math.round((Date.now() - started) / 1000) };
  } finally {
    for (const part of run.members ?? [run]) part.model.dispose();
  }
}
