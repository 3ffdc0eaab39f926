// Right after `aplnet train` on a manifest whose labels belong to the patient, the run is recorded
// as case-level with the baseline chosen on its validation cases, so predict's case summary names
// a case call at once instead of waiting for `evaluate` or `train-case` to record it. A run whose
// labels are cell types is left as it is (its case summary is the differential).
import { resolve } from 'node:path';
import { readSource } from '../data/index.js';
import { acquireRunLock } from '../io/index.js';
import { prepareCaseData, readCaseLevel, recordCaseLevel, sourceCases } from '../train/index.js';
import { disposeRun } from './ensemble-run.js';
import { loadRun } from './load-run.js';

export interface RecordCaseLevelOptions {
  device?: string;
  cacheDir?: string;
  workers?: number;
  log?: (line: string) => void;
}

/** Whether every patient of the data has one label (a case-level dataset), as sourceCases decides it. */
async function labelsBelongToPatients(data: string, classNames?: string[]): Promise<boolean> {
  const source = await readSource(data, classNames ? { classNames } : {});
  return !('reason' in sourceCases(source.samples));
}

/** Records a freshly trained case-level run; returns the baseline chosen, or null when the run is not case-level. */
export async function recordCaseLevelAfterTraining(runDir: string, options: RecordCaseLevelOptions = {}): Promise<string | null> {
  const log = options.log ?? ((line: string) => console.error(line));
  const run = await loadRun(runDir, { device: options.device ?? 'cpu' });
  try {
    if (!(await labelsBelongToPatients(run.config.training.data, run.classNames))) return null;
    const lock = acquireRunLock(resolve(runDir), 'train');
    try {
      const prepared = await prepareCaseData(run, { splits: ['val'], device: options.device, cacheDir: options.cacheDir, workers: options.workers });
      try {
        if (prepared.bags.val.length === 0) {
          log('the run is case-level but has no validation cases: no baseline chosen; the case summary shows the differential until "aplnet evaluate" or "aplnet train-case" records one');
          return null;
        }
        const record = recordCaseLevel(run, prepared.bags.val, readCaseLevel(run.dir, run.weightsSha256, run.classNames));
        log(`case-level run: without a case model the case call is the ${record.baseline} baseline (best on ${prepared.bags.val.length} validation cases); "aplnet train-case ${runDir}" trains the case model`);
        return record.baseline;
      } finally {
        await prepared.dataset.close();
      }
    } finally {
      lock.release();
    }
  } finally {
    disposeRun(run);
  }
}

/**
 * Before training: a note when the data's labels belong to the patients but the epoch would be kept
 * by validation macro-F1 against them (every cell carries its case's label, so that figure is noise;
 * on pbc-cases it kept epochs 40, 34 and 10 of three seeds, and the case calls of epoch 10 were the
 * worst by far). Null when the labels are cell types, or the user asked for --keep last.
 */
export async function caseLabelTrainingNote(data: string, keep: 'best' | 'last'): Promise<string | null> {
  if (keep === 'last' || !(await labelsBelongToPatients(data))) return null;
  return `note: the labels of ${data} belong to the patients (each cell carries its case's label), so the epoch of best validation macro-F1 against them is chosen by noise; for a cell encoder under a case model, "--keep last --patience 0" keeps the end of the schedule (the case recipe in the README)`;
}
