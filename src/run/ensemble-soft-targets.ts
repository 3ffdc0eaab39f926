// The teacher's side of distillation: its calibrated probabilities (the ensemble's mean, in its TTA
// mode) of every image of its training data, as log-probabilities by the image's path.
import type { TeacherTargets, TtaMode } from '../train/index.js';
import { logProbabilities } from './ensemble-pass.js';
import { modelsOnDataset, type DatasetReadOptions } from './ensemble-probabilities.js';
import type { LoadedRun } from './load-run.js';

export async function teacherSoftTargets(run: LoadedRun, tta: TtaMode, options: DatasetReadOptions = {}): Promise<TeacherTargets> {
  const data = run.config.training.data;
  const { perModel, calibrated } = await modelsOnDataset(run, data, tta, options);
  const classes = run.classNames.length;
  const logs = logProbabilities(calibrated);
  const byPath = new Map<string, Float32Array>();
  perModel[0].paths.forEach((path, i) => {
    const row = logs.slice(i * classes, (i + 1) * classes);
    if (!row.every(Number.isFinite)) throw new Error(`the teacher ${run.dir} gives no finite probabilities for ${path} (NaN or Inf): its weights or this image are damaged; no student is trained on it`);
    byPath.set(path, row);
  });
  return { classNames: run.classNames, byPath };
}
