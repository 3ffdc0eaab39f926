// Which split a training run uses: the one it recorded (resume), the manifest's split column (the
// user's decision, honoured as written), k-fold, or holdout fractions.
import { existsSync, statSync } from 'node:fs';
import { readSource, type SplitSpec } from '../data/index.js';
import { runPath, type RunConfig } from './run-files.js';
import type { TrainingConfig } from './training-config.js';

export /** How the data is split: as the run recorded it, as the manifest's split column says, or computed. */
async function splitSpec(config: TrainingConfig, runDir: string, hasSplitFile: boolean, typed: Partial<TrainingConfig>): Promise<{ spec: SplitSpec | { kind: 'file'; path: string }; kind: NonNullable<RunConfig['splitKind']> }> {
  if (hasSplitFile) return { spec: { kind: 'file', path: runPath(runDir, 'split') }, kind: 'holdout' };
  if (await manifestHasSplitColumn(config.data)) {
    // The split column is the user's decision (e.g. an external validation cohort kept as test).
    if (config.folds !== undefined) throw new Error(`${config.data} fixes each row's split in its split column, so --folds cannot re-split it; remove --folds, or remove the split column`);
    if (typed.split !== undefined) throw new Error(`${config.data} fixes each row's split in its split column, so --split fractions do not apply; remove --split`);
    return { spec: { kind: 'manifest' }, kind: 'manifest' };
  }
  if (config.folds !== undefined) return { spec: { kind: 'k-fold', folds: config.folds, fold: config.fold ?? 0, seed: config.seed }, kind: 'k-fold' };
  return { spec: { kind: 'holdout', fractions: config.split, seed: config.seed }, kind: 'holdout' };
}

async function manifestHasSplitColumn(data: string): Promise<boolean> {
  if (!existsSync(data) || !statSync(data).isFile()) return false;
  const source = await readSource(data);
  return source.declaredSplits.size > 0;
}

