// `--zoom auto`: the zoom is chosen from the training cells themselves before anything is trained.
// The dataset is first prepared on the whole crops (zoom 1, the same split and stain normalisation),
// where train already measures how far the stained cell nearest the centre reaches (cell-extent.ts);
// autoZoom turns that into the largest quarter step that keeps 95% of the cells whole. The chosen
// zoom goes into preprocessing.json like a typed one (predict, evaluate and serve read it there), and
// config.json keeps `zoom: "auto"` with the measure beside it, so --resume reads the choice back
// instead of measuring again.
import { existsSync } from 'node:fs';
import { autoZoom, loadInferencePreprocessing, prepareDataset, type CellExtentSummary, type DatasetOptions } from '../data/index.js';
import { runPath } from './run-files.js';
import type { TrainingConfig } from './training-config.js';

/** What config.json records about an automatic zoom. */
export interface ZoomChoice {
  zoom: number;
  reason: string;
  /** The measure on the whole crops (null when no training image could be measured). */
  measured: CellExtentSummary | null;
}

/** The zoom a run folder trained with, read from its preprocessing.json (an automatic one as it was resolved). */
export async function zoomOfRun(runDir: string): Promise<number> {
  const path = runPath(runDir, 'preprocessing');
  if (!existsSync(path)) throw new Error(`${path} is missing: it holds the zoom this run trained with (and the weights are bound to it); restore it from a copy of the run, or start a new run in another --out folder`);
  return (await loadInferencePreprocessing(path)).preprocessing.zoom ?? 1;
}

/**
 * The zoom to train with: the typed one; on --resume of an automatic zoom, the one the run chose
 * (its preprocessing.json); else measured now on the training split at zoom 1.
 */
export async function resolveZoom(
  config: Pick<TrainingConfig, 'zoom'>,
  runDir: string,
  resume: boolean,
  datasetOptions: DatasetOptions,
  log: (line: string) => void,
): Promise<{ zoom: number; choice: ZoomChoice | null }> {
  if (config.zoom !== 'auto') return { zoom: config.zoom, choice: null };
  if (resume) return { zoom: await zoomOfRun(runDir), choice: null };
  log('--zoom auto: measuring how much of the whole crop the training cells fill …');
  const whole = await prepareDataset({ ...datasetOptions, preprocessing: { ...datasetOptions.preprocessing, zoom: 1 } });
  try {
    const measured = whole.summary.cellExtent ?? null;
    const { zoom, reason } = autoZoom(measured);
    log(`--zoom auto chose ${zoom}: ${reason}`);
    return { zoom, choice: { zoom, reason, measured } };
  } finally {
    await whole.close();
  }
}
