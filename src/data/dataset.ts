import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BadImageLog, type BadImagePolicy } from './bad-image-log.js';
import { CellExtentAccumulator, cellExtentAdvice } from './cell-extent.js';
import { ChannelStatsAccumulator, type ChannelStats } from './channel-stats.js';
import { classIndexMap, saveClassNames } from './class-names.js';
import { DataLoader, type DataSubset, type LoaderOptions } from './data-loader.js';
import type { DataSummary } from './data-summary.js';
import { DataError } from './errors.js';
import { FileIndex } from './file-index.js';
import type { ConversionNote } from './decode/image-decode.js';
import { ImageStore } from './image-store.js';
import { saveInferencePreprocessing, type InferencePreprocessing } from './inference.js';
import { ingestSamples, type IngestedSample } from './ingest.js';
import { PixelCache } from './pixel-cache.js';
import { defaultDecodeLimits, validatePreprocessing, type DecodeLimits, type Preprocessing } from './preprocessing.js';
import { randomFor, shuffleInPlace } from './prng.js';
import { readSource } from './sources/read-source.js';
import { assertOneLabelPerContent, dropCrossSplitCopies } from './dataset/duplicate-content.js';
import { chooseSplit, skippedPerSplit, type DatasetSplit } from './dataset/split-choice.js';
import { assertGroupsDisjoint, assignmentsFor, computeSplit, loadSplitFile, saveSplitFile, type SplitFile } from './split-file.js';
import type { SplitName } from './split-names.js';
import { fitStainNormalizer, type StainNormalizationMethod, type StainNormalizer } from './stain-normalizer.js';
import type { SplitItem } from './stratified-split.js';
import { WorkerPool } from './worker-pool.js';

export interface DatasetOptions {
  /** A folder of class folders, or a CSV manifest. */
  source: string;
  /** Fixes classes and their order (e.g. from a previous run's classes.json). */
  classNames?: string[];
  preprocessing: Preprocessing;
  limits?: Partial<DecodeLimits>;
  /** Default 'skip': bad files are left out and counted in the summary. */
  onBadImage?: BadImagePolicy;
  /** Folder for the pixel cache and file index; without it every epoch decodes again. */
  cacheDir?: string;
  /**
   * Default: the manifest's split column if it has one, else a 70/15/15 holdout. A holdout or
   * k-fold spec over a manifest with a split column is refused (see chooseSplit).
   */
  split?: DatasetSplit;
  /** A method to fit on the training split, or parameters already fitted (from a run folder). Default 'none'. */
  stainNormalization?: StainNormalizationMethod | StainNormalizer;
  /** How many training images Macenko/Reinhard are fitted on; default 64. */
  stainFitImages?: number;
  /** Reuse statistics from a previous run instead of measuring the training split. */
  channelStats?: ChannelStats;
  seed?: number;
  /** Worker threads for stain normalisation and augmentation; default min(2, cores); 0 = inline. */
  workers?: number;
}

export interface PreparedDataset {
  classNames: string[];
  summary: DataSummary;
  split: SplitFile;
  inference: InferencePreprocessing;
  subset(name: SplitName): DataSubset;
  loader(name: SplitName, options: LoaderOptions): DataLoader;
  /** Writes classes.json, split.json and preprocessing.json into the run folder. */
  saveTo(runDir: string): Promise<void>;
  close(): Promise<void>;
}

function splitItems(samples: IngestedSample[], classIndex: Map<string, number>): SplitItem[] {
  return samples.map((sample) => ({
    key: sample.key,
    label: classIndex.get(sample.label)!,
    group: sample.patientId !== undefined ? `patient ${sample.patientId}` : `image ${sample.hash}`,
  }));
}

/** What to say when the manifest's split column named no validation rows and they were drawn from its train rows (null otherwise). */
function validationDrawnNote(items: SplitItem[], split: SplitFile, groupBy: SplitFile['groupBy']): string | null {
  if (split.spec.kind !== 'manifest' || !split.spec.validationFromTrain) return null;
  const groupsIn = (name: SplitName) => new Set(items.filter((item) => split.assignments[item.key] === name).map((item) => item.group)).size;
  const unit = groupBy === 'patient' ? 'patients' : 'images';
  const val = groupsIn('val');
  return `the manifest's split column names no validation rows: ${val} of its ${val + groupsIn('train')} training ${unit} (${Math.round(split.spec.validationFromTrain.share * 100)}%, stratified by class${groupBy === 'patient' ? ', each patient whole' : ''}) were drawn to validate; the test rows stay as written. Write "val" in the split column to choose them yourself`;
}

/** Reads, validates, caches, splits and measures a dataset: everything before the first batch. */
export async function prepareDataset(options: DatasetOptions): Promise<PreparedDataset> {
  const preprocessing = validatePreprocessing(options.preprocessing);
  const limits = { ...defaultDecodeLimits, ...options.limits };
  const seed = options.seed ?? 0;
  const badImages = new BadImageLog(options.onBadImage ?? 'skip');
  const source = await readSource(options.source, { classNames: options.classNames });
  const warnings = [...source.warnings];
  const spec = chooseSplit(source, options.split, options.source);
  for (const problem of source.problems) badImages.report(problem);

  let cache: PixelCache | undefined;
  let fileIndex: FileIndex | undefined;
  if (options.cacheDir) {
    await mkdir(options.cacheDir, { recursive: true });
    cache = new PixelCache(options.cacheDir);
    fileIndex = await FileIndex.open(options.cacheDir);
  }
  const pool = new WorkerPool(options.workers);
  try {
    const store = new ImageStore(preprocessing, limits, cache, pool);
    const ingest = await ingestSamples(source.samples, store, badImages, fileIndex);
    const classIndex = classIndexMap(source.classNames);
    assertOneLabelPerContent(ingest.samples, options.source);

    const withPatients = ingest.samples.filter((sample) => sample.patientId !== undefined).length;
    if (withPatients > 0 && withPatients < ingest.samples.length) {
      throw new DataError(options.source, 'bad-manifest', `${withPatients} of ${ingest.samples.length} rows have a patient_id; give one on every row or on none`);
    }
    const groupBy = withPatients > 0 ? 'patient' : 'image';
    const manifestSplits = new Map(ingest.samples.filter((s) => s.split).map((s) => [s.key, s.split!] as const));

    const items = splitItems(ingest.samples, classIndex);
    let split: SplitFile;
    if (spec.kind === 'file') {
      const saved = await loadSplitFile(spec.path);
      split = { ...saved, assignments: assignmentsFor(items, saved, spec.path) };
    } else {
      split = computeSplit(items, spec, groupBy, source.declaredSplits.size > 0 ? manifestSplits : undefined);
    }
    if (groupBy === 'patient') assertGroupsDisjoint(items, split.assignments, spec.kind === 'file' ? spec.path : options.source);
    const drawnNote = spec.kind === 'manifest' ? validationDrawnNote(items, split, groupBy) : null;

    const samples = dropCrossSplitCopies(ingest.samples, split.assignments, badImages);

    const perClass: Record<string, number> = Object.fromEntries(source.classNames.map((name) => [name, 0]));
    for (const sample of samples) perClass[sample.label]++;
    for (const [name, count] of Object.entries(perClass)) {
      if (count === 0) {
        throw new DataError(join(options.source, name), 'empty-class', `class "${name}" has no usable images; add images, or leave the class out of the class list`);
      }
      if (count === 1) warnings.push(`class "${name}" has a single image: it can be in only one split, so it is never both trained and tested`);
    }

    const bySplit = (name: SplitName) => samples.filter((sample) => split.assignments[sample.key] === name);
    const training = bySplit('train');
    for (const name of source.classNames) {
      if (!training.some((sample) => sample.label === name)) warnings.push(`class "${name}" has no training images in this split`);
    }

    let stainNormalizer: StainNormalizer;
    const stainOption = options.stainNormalization ?? 'none';
    if (typeof stainOption === 'string') {
      const fitSet = shuffleInPlace([...training], randomFor(seed, 0x57a1)).slice(0, options.stainFitImages ?? 64);
      const fitPixels = await Promise.all(fitSet.map(async (sample) => (await store.base(sample)).pixels));
      stainNormalizer = fitStainNormalizer(stainOption, fitPixels);
    } else {
      stainNormalizer = stainOption;
    }
    store.setStainNormalizer(stainNormalizer);

    const chunk = 64;
    const statsAccumulator = new ChannelStatsAccumulator();
    const extentAccumulator = new CellExtentAccumulator();
    // Every stride-th training image, so a folder dataset (listed class by class) is measured across its classes.
    const extentStride = Math.max(1, Math.ceil(training.length / extentAccumulator.limit));
    let trainingSeen = 0;
    // Visiting every image once here both measures the training split and fills the stain-normalised cache.
    const warmStainCache = cache !== undefined && stainNormalizer.method !== 'none';
    const visit = warmStainCache ? samples : options.channelStats ? [] : training;
    for (let start = 0; start < visit.length; start += chunk) {
      const part = visit.slice(start, start + chunk);
      const images = await store.pixels(part);
      images.forEach((image, i) => {
        if (!options.channelStats && split.assignments[part[i].key] === 'train') {
          statsAccumulator.add(image.pixels);
          if (trainingSeen % extentStride === 0) extentAccumulator.add(image.pixels, preprocessing.size);
          trainingSeen += 1;
        }
      });
    }
    const channelStats = options.channelStats ?? statsAccumulator.result();
    const cellExtent = extentAccumulator.result();
    const cellAdvice = cellExtentAdvice(cellExtent, preprocessing.zoom ?? 1);
    if (cellAdvice?.warning) warnings.push(cellAdvice.text);

    const converted: Partial<Record<ConversionNote, number>> = {};
    for (const sample of samples) for (const note of sample.notes) converted[note] = (converted[note] ?? 0) + 1;
    const summary: DataSummary = {
      listed: source.samples.length + source.problems.length,
      loaded: samples.length,
      skipped: badImages.counts(),
      skippedImages: badImages.skipped,
      skippedPerSplit: skippedPerSplit(badImages.skipped, source, split.assignments),
      converted,
      perClass,
      perSplit: { train: training.length, val: bySplit('val').length, test: bySplit('test').length },
      warnings,
      cellExtent,
      notes: [...(drawnNote ? [drawnNote] : []), ...(cellAdvice && !cellAdvice.warning ? [cellAdvice.text] : [])],
      cacheHits: ingest.cacheHits,
      decoded: ingest.decoded,
    };
    const inference: InferencePreprocessing = { preprocessing, limits, stainNormalizer, channelStats };
    const finalSplit: SplitFile = { ...split, assignments: Object.fromEntries(samples.map((sample) => [sample.key, split.assignments[sample.key]])) };

    const subset = (name: SplitName): DataSubset => {
      const members = bySplit(name);
      return {
        name,
        images: members.map((sample) => ({ path: sample.path, hash: sample.hash, key: sample.key })),
        labels: Int32Array.from(members, (sample) => classIndex.get(sample.label)!),
        classNames: source.classNames,
        imageSize: preprocessing.size,
        stats: channelStats,
        store,
        pool,
      };
    };
    return {
      classNames: source.classNames,
      summary,
      split: finalSplit,
      inference,
      subset,
      loader: (name, loaderOptions) => new DataLoader(subset(name), loaderOptions),
      async saveTo(runDir: string) {
        await mkdir(runDir, { recursive: true });
        await saveClassNames(join(runDir, 'classes.json'), source.classNames);
        await saveSplitFile(join(runDir, 'split.json'), finalSplit);
        await saveInferencePreprocessing(join(runDir, 'preprocessing.json'), inference);
      },
      close: () => pool.close(),
    };
  } catch (error) {
    await pool.close();
    throw error;
  }
}
