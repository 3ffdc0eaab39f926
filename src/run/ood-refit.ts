// `aplnet evaluate`'s part in the out-of-distribution check: fit it where it is missing, stale or
// fitted for another TTA mode than the (possibly just refitted) calibration, from the run's own
// training and validation splits; then measure how many of the evaluated in-distribution images
// it flags, through the prediction core, as a user would see them.
import { existsSync } from 'node:fs';
import { prepareDataset } from '../data/index.js';
import { bagWithout, fitOodOnSplits, readOod, runPath, type CaseBag } from '../train/index.js';
import { datasetOptionsOf } from './dataset-options.js';
import type { LoadedRun } from './load-run.js';
import { predictImages } from './predict-images.js';

export interface OodRefitOptions {
  cacheDir?: string;
  workers?: number;
  log?: (line: string) => void;
}

/** Fits the check of the run (of every member of an ensemble) where it is not current; returns what was done, per part. */
export async function refitOodWhereNeeded(run: LoadedRun, device: string, options: OodRefitOptions = {}): Promise<string[]> {
  const log = options.log ?? ((line: string) => console.error(line));
  const done: string[] = [];
  for (const part of run.members ?? [run]) {
    const tta = part.calibration?.tta;
    if (!tta) {
      done.push(`${part.dir}: no calibration, so no out-of-distribution check fitted`);
      continue;
    }
    if (part.ood && part.ood.record.tta === tta) {
      done.push(`${part.dir}: out-of-distribution check kept (fitted for these weights, TTA ${tta})`);
      continue;
    }
    const training = part.config.training;
    if (!existsSync(training.data)) {
      done.push(`${part.dir}: the training data ${training.data} is not there, so its out-of-distribution check cannot be fitted; predict will refuse the run until it is`);
      continue;
    }
    const dataset = await prepareDataset({ ...datasetOptionsOf(part, options), source: training.data, split: { kind: 'file', path: runPath(part.dir, 'split') } });
    try {
      await fitOodOnSplits(part.model, dataset, device, part.dir, training.batch, tta, log);
    } finally {
      await dataset.close();
    }
    part.ood = readOod(part.dir, part.weightsSha256, tta);
    done.push(`${part.dir}: out-of-distribution check fitted now (TTA ${tta})`);
  }
  return done;
}

export interface OodFlagRate {
  flagged: number;
  predicted: number;
  share: number;
  /** The flagged images: what a case summary leaves out of its call. */
  setAside: Set<string>;
}

/** How many of `paths` (in-distribution images, e.g. the test split) the check flags, through the prediction core. */
export async function oodFlagRate(run: LoadedRun, paths: readonly string[]): Promise<OodFlagRate> {
  const results = await predictImages(run, paths);
  const setAside = new Set<string>();
  let predicted = 0;
  results.forEach((result, i) => {
    if (!result.ok) return;
    predicted++;
    if (result.ood?.flagged) setAside.add(paths[i]);
  });
  return { flagged: setAside.size, predicted, share: predicted ? setAside.size / predicted : 0, setAside };
}

/** Whether the run (every member of an ensemble) has a fitted out-of-distribution check. */
export function hasOodCheck(run: LoadedRun): boolean {
  return (run.members ?? [run]).every((part) => part.ood);
}

/**
 * The images among `paths` that the prediction core sets aside as out of distribution (empty when
 * the run, or a member of it, has no fitted check): what a case summary leaves out of its call.
 */
export async function oodSetAsidePaths(run: LoadedRun, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0 || !hasOodCheck(run)) return new Set();
  return (await oodFlagRate(run, paths)).setAside;
}

/**
 * Case bags without the cells the run's check sets aside (`setAside`, default oodSetAsidePaths), as
 * every case call leaves them out: the bags that keep a cell, in order, the ids of those that keep
 * none (not called), and the paths set aside.
 */
export async function bagsWithoutSetAside(run: LoadedRun, bags: readonly CaseBag[], setAside?: ReadonlySet<string>): Promise<{ bags: CaseBag[]; emptied: string[]; setAside: ReadonlySet<string> }> {
  const aside = setAside ?? (await oodSetAsidePaths(run, bags.flatMap((bag) => bag.paths)));
  const kept = bags.map((bag) => bagWithout(bag, aside));
  return {
    bags: kept.filter((bag): bag is CaseBag => bag !== null),
    emptied: bags.filter((_, i) => kept[i] === null).map((bag) => bag.id),
    setAside: aside,
  };
}
