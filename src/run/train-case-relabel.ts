// One round of instance relabeling for a case-level run (train/case-relabel.ts says why and how):
// the previous round's cell model scores the training cells of the run's own case manifest, the
// case labels and those scores give each cell an instance label (or leave it out), and a fresh cell
// encoder is trained on them with the previous run's recipe and split. The new run is a normal
// case-level run (same manifest, same split, so the same test cases are never trained on) with
// relabel.json beside it; `aplnet train-case` then trains the case model on its embeddings, and
// relabeling the new run gives the next round.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  prepareCaseData,
  RELABEL_DEFAULTS,
  RELABEL_FILE,
  RelabelRecordSchema,
  relabelCells,
  runPath,
  trainRelabeledRun,
  type RelabelSettings,
  type TrainingConfig,
  type TrainResult,
} from '../train/index.js';
import type { LoadedRun } from './load-run.js';
import { recordCaseLevelAfterTraining } from './record-case-level.js';

export const DEFAULT_NORMAL_CLASS = 'normal';

export interface RelabelRunOptions extends Partial<RelabelSettings> {
  /** The case class whose cases hold only normal cells (default "normal"). */
  normalClass?: string;
  /** Training options the user typed (epochs, batch, lr, device, threads, …); the rest is the previous run's recipe. */
  training?: Partial<TrainingConfig>;
  cacheDir?: string;
  workers?: number;
  device?: string;
  log?: (line: string) => void;
}

/** The previous run's recipe, so the rounds differ in their labels only. */
function recipeOf(previous: LoadedRun): Partial<TrainingConfig> {
  const t = previous.config.training;
  return {
    model: t.model,
    size: previous.config.model.inputSize,
    epochs: t.epochs,
    batch: t.batch,
    lr: t.lr,
    weightDecay: t.weightDecay,
    warmupEpochs: t.warmupEpochs,
    schedule: t.schedule,
    labelSmoothing: t.labelSmoothing,
    keep: t.keep,
    patience: t.patience,
    seed: t.seed,
    augment: t.augment,
    stainNorm: t.stainNorm,
    resize: t.resize,
    // The zoom the previous run trained with (an automatic one is read back, not measured again).
    zoom: previous.inference.preprocessing.zoom ?? 1,
    onBadImage: t.onBadImage,
    rotation: t.rotation,
    rotationFill: t.rotationFill,
    stainJitter: t.stainJitter,
    ema: t.ema,
    dropPath: t.dropPath,
    ...(previous.config.splitKind === 'manifest' ? {} : { split: t.split }),
  };
}

/** The round of the previous run: 1 for a run trained on case labels, its relabel.json's round otherwise. */
function roundOf(previous: LoadedRun): number {
  const path = join(previous.dir, RELABEL_FILE);
  if (!existsSync(path)) return 1;
  const parsed = RelabelRecordSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path} is damaged (${parsed.error.issues[0]?.message}); the round of ${previous.dir} is unknown`);
  return parsed.data.round;
}

/** The test cells of a run's split, sorted. */
function testCellsOf(dir: string): string {
  const assignments = JSON.parse(readFileSync(runPath(dir, 'split'), 'utf8')).assignments as Record<string, string>;
  return Object.entries(assignments).filter(([, split]) => split === 'test').map(([path]) => path).sort().join('\n');
}

/** Trains the next round's cell encoder into `outDir` from `previous` (a loaded case-level run); see the file comment. */
export async function trainRelabeledEncoder(previous: LoadedRun, outDir: string, options: RelabelRunOptions = {}): Promise<TrainResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  if (previous.members) throw new Error(`${previous.dir} is an ensemble of folds; relabel from one run trained on the case manifest`);
  const settings: RelabelSettings = { keyShare: options.keyShare ?? RELABEL_DEFAULTS.keyShare, normalQuantile: options.normalQuantile ?? RELABEL_DEFAULTS.normalQuantile };
  const normalClass = options.normalClass ?? DEFAULT_NORMAL_CLASS;
  const round = roundOf(previous) + 1;
  const data = previous.config.training.data;
  log(`round ${round}: scoring the training cells of ${data} with ${previous.dir} …`);
  const prepared = await prepareCaseData(previous, { splits: ['train'], cacheDir: options.cacheDir, workers: options.workers, device: options.device, log });
  const train = prepared.bags.train;
  await prepared.dataset.close();
  if (train.length === 0) throw new Error(`${data} has no training cases in ${previous.dir}'s split`);
  const relabeling = relabelCells(train, previous.classNames, normalClass, settings);
  const result = await trainRelabeledRun(
    { ...recipeOf(previous), ...options.training, data },
    outDir,
    relabeling,
    { from: previous.dir, fromWeightsSha256: previous.weightsSha256, round, normalClass, ...settings, trainCases: train.length },
    previous.classNames,
    log,
  );
  if (result.reason === 'interrupted') return result;
  // The same manifest split makes the same test cells; checked, since a test case trained on would void every figure.
  if (testCellsOf(previous.dir) !== testCellsOf(result.runDir)) throw new Error(`the test split of ${result.runDir} differs from ${previous.dir}'s, so its case figures would include cells trained on; do not use ${result.runDir}`);
  await recordCaseLevelAfterTraining(result.runDir, { device: options.device, cacheDir: options.cacheDir, workers: options.workers, log });
  return result;
}
