// explain's maps and faithfulness curves for any run: one model, an ensemble, with or without TTA.
// A map is the mean of the members' maps (each member reading the images in its own
// normalisation), and under TTA each member's map is the mean over the eight views turned back, as
// in the prediction core; each mean is divided by its maximum again (the maps' documented scale). A deletion or insertion curve of an ensemble is the mean of its members'
// curves (one view each: the curves already take one forward per point and image).
import { deletionCurve, explain, insertionCurve, meanMapOfMembers, meanMapOfViews, type ExplainMethod, type FaithfulnessCurve, type FaithfulnessMode } from '../explain/index.js';
import type { AplNet } from '../model/index.js';
import type { TtaMode } from '../train/index.js';
import { DIHEDRAL_VIEWS, dihedralBatch, tidy, type Tensor } from '../torch/index.js';
import { renormalize } from './ensemble-pass.js';
import type { LoadedRun } from './load-run.js';

/** One model's maps [N, 1, H, W] of `method` for `targets`, the mean over the views under TTA. */
export function modelMaps(model: AplNet, x: Tensor, method: ExplainMethod, targets: number[], tta: TtaMode): Tensor {
  if (tta === 'off') return explain(model, x, { method, target: targets });
  return tidy(() => meanMapOfViews(explain(model, dihedralBatch(x), { method, target: DIHEDRAL_VIEWS.flatMap(() => targets) })));
}

/** Each model of the run with the images in its normalisation; x is normalised with run.inference. */
function eachModel<R>(run: LoadedRun, x: Tensor, fn: (model: AplNet, input: Tensor) => R): R[] {
  if (!run.members) return [fn(run.model, x)];
  return run.members.map((member) => tidy(() => fn(member.model, renormalize(x, run.inference.channelStats, member.inference.channelStats))));
}

/** The run's maps of `method` for `targets`: the members' mean for an ensemble. The caller disposes the result. */
export function runMaps(run: LoadedRun, x: Tensor, method: ExplainMethod, targets: number[], tta: TtaMode): Tensor {
  return tidy(() => {
    const maps = eachModel(run, x, (model, input) => modelMaps(model, input, method, targets, tta));
    return maps.length === 1 ? maps[0] : meanMapOfMembers(maps);
  });
}

/** The run's deletion or insertion curve: the members' mean for an ensemble. */
export function runCurve(run: LoadedRun, images: Tensor, maps: Tensor, targets: number[], mode: FaithfulnessMode, options: { steps: number; batchSize: number }): FaithfulnessCurve {
  const curve = mode === 'deletion' ? deletionCurve : insertionCurve;
  const curves = eachModel(run, images, (model, input) => curve(model, input, maps, targets, options));
  if (curves.length === 1) return curves[0];
  const mean = (pick: (c: FaithfulnessCurve) => number) => curves.reduce((sum, c) => sum + pick(c), 0) / curves.length;
  const first = curves[0];
  return {
    ...first,
    probabilities: first.probabilities.map((row, i) => row.map((_, k) => mean((c) => c.probabilities[i][k]))),
    auc: first.auc.map((_, i) => mean((c) => c.auc[i])),
    meanAuc: mean((c) => c.meanAuc),
  };
}
