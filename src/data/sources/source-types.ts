import { relative, sep } from 'node:path';
import { DataError } from '../errors.js';
import type { SplitName } from '../split-names.js';

/** One labelled image as listed by the source, before anything is read. */
export interface SampleRecord {
  /** Absolute path to the image. */
  path: string;
  /** Path relative to the dataset root with '/' separators: the stable name used in split.json. */
  key: string;
  label: string;
  patientId?: string;
  /** A split fixed by the manifest, which then overrides any computed split. */
  split?: SplitName;
  /** The manifest line that lists it, for messages that must point at a row. */
  line?: number;
}

export interface DatasetSource {
  root: string;
  samples: SampleRecord[];
  /** Class names in their fixed order: the label index of a class is its position here. */
  classNames: string[];
  /** Listed entries that cannot be used (e.g. a label not in the class list), for the bad-image policy to judge. */
  problems: DataError[];
  /** Notes that do not stop anything, e.g. a folder without images that is not taken as a class. */
  warnings: string[];
  /**
   * The split the manifest's `split` column gives each listed key, problem rows included. Not
   * empty exactly when the manifest fixes the splits: then split {kind: 'manifest'} is the only
   * split spec prepareDataset accepts besides a saved split file.
   */
  declaredSplits: Map<string, SplitName>;
}

export interface SourceOptions {
  /** Fixes the classes and their order; otherwise the sorted distinct labels are used. */
  classNames?: string[];
}

export function toKey(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}

export function unknownLabel(path: string, label: string, classNames: string[]): DataError {
  return new DataError(path, 'unknown-label', `label "${label}" is not one of the classes [${classNames.join(', ')}]`);
}
