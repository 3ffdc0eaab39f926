// An ensemble of folds (or a student distilled from one) has learned from every image its members
// trained or validated on, so a figure measured on any of them is not a test figure. Before an
// evaluation, the evaluated images are compared with those, by path and by content (a copy under
// another name is the same image), and any overlap stops the evaluation, naming an example.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { loadSplitFile, readSource } from '../data/index.js';
import { runPath } from '../train/index.js';
import type { LoadedRun } from './load-run.js';

/** A file's identity by path and by content. */
export interface ImageIdentity {
  path: string;
  sha256: string;
}

function identityOf(path: string): ImageIdentity | null {
  try {
    return { path: realpathSync(path), sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
  } catch {
    return null; // an unreadable file is skipped (and reported) by the evaluation itself
  }
}

/** Every image a run trained or validated on (its split.json's train and val), by path and content. */
export async function imagesLearnedFrom(run: Pick<LoadedRun, 'dir' | 'config' | 'classNames'>): Promise<ImageIdentity[]> {
  const split = await loadSplitFile(runPath(run.dir, 'split'));
  const source = await readSource(run.config.training.data, { classNames: run.classNames });
  return source.samples
    .filter((sample) => split.assignments[sample.key] === 'train' || split.assignments[sample.key] === 'val')
    .map((sample) => identityOf(sample.path))
    .filter((identity): identity is ImageIdentity => identity !== null);
}

/** Throws when any of `evaluated` (absolute paths) is one of `learned`, by path or by content. */
export function refuseOverlap(evaluated: readonly string[], learned: readonly ImageIdentity[], what: string, data: string): void {
  const paths = new Set(learned.map((image) => image.path));
  const contents = new Set(learned.map((image) => image.sha256));
  const overlap = evaluated.map(identityOf).filter((image): image is ImageIdentity => image !== null && (paths.has(image.path) || contents.has(image.sha256)));
  if (overlap.length > 0) {
    throw new Error(`${overlap.length} of the ${evaluated.length} images to evaluate in ${data} were used to train or validate ${what} (e.g. ${overlap.slice(0, 3).map((image) => image.path).join(', ')}), so the figures would not be test figures; evaluate on images none of them saw`);
  }
}
