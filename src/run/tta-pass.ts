// One model's answer for a batch, with or without test-time augmentation over the dihedral group.
// With it, the model sees the eight views of every image in one batch; the logits and embeddings
// are the mean over the views, and each view's map is turned back to the input's orientation before
// the maps are averaged. A gradient map explains one class: every view's map is made for the class
// the averaged logits (or, for an ensemble, the ensemble) call, not the class that view alone calls.
import { CLASS_SPECIFIC_METHODS, explain, meanMapOfViews, predictAndExplain, zeroNonFiniteMaps, type ExplainMethod } from '../explain/index.js';
import type { AplNet } from '../model/index.js';
import type { TtaMode } from '../train/index.js';
import { cat, dihedralBatch, DIHEDRAL_VIEWS, meanOfViewRows, tensor, tidy, type Tensor } from '../torch/index.js';


export interface ModelPass {
  /** [N, C] row-major: the model's logits, the mean over the eight views under TTA. */
  logits: Float32Array;
  numClasses: number;
  /** [N, 1, H, W] per method, in the input's orientation; the caller disposes them. */
  maps: Partial<Record<ExplainMethod, Tensor>>;
  /** Per method, per image: the map held NaN or Inf (in any view) and was blanked. */
  blanked: Partial<Record<ExplainMethod, boolean[]>>;
  /** [N, D] row-major (the mean over the views under TTA). */
  embeddings: Float32Array;
  embeddingSize: number;
  /** The class every image's gradient maps explain (the arg-max of `logits`). */
  explained: number[];
}

function argmaxRows(logits: Float32Array, classes: number): number[] {
  const n = logits.length / classes;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    return best;
  });
}

/** Images [N, C, H, W] through the model in a mode; maps as predictAndExplain makes them. */
export function passInMode(model: AplNet, x: Tensor, methods: readonly ExplainMethod[], tta: TtaMode): ModelPass {
  const classes = model.config.numClasses;
  if (tta === 'off') {
    const result = predictAndExplain(model, x, methods);
    return { ...result, numClasses: classes, explained: argmaxRows(result.logits, classes) };
  }
  const views = dihedralBatch(x);
  try {
    const n = x.shape[0];
    // Forward-only maps are made at once for the class of the image's mean over its views (no view
    // is remade); gradient maps explain each view's own call first, and the disagreeing views are remade below.
    const result = predictAndExplain(model, views, methods, {
      targetsFromLogits: (viewLogits, c) => {
        const called = argmaxRows(meanOfViewRows(viewLogits, c), c);
        return Array.from({ length: viewLogits.length / c }, (_, row) => called[row % n]);
      },
    });
    const logits = meanOfViewRows(result.logits, classes);
    const explained = argmaxRows(logits, classes);
    const pass: ModelPass = { logits, numClasses: classes, maps: {}, blanked: {}, embeddings: meanOfViewRows(result.embeddings, result.embeddingSize), embeddingSize: result.embeddingSize, explained };
    // The views that call another class than their image's mean: their class-specific maps were
    // made for that view's call, so they alone are made again for the mean's (every other view's map
    // already explains it; remaking all eight views of such an image, or the whole batch, cost up to
    // twice the pass where cells are unsure, as on patient-labelled runs).
    const disagreeing = result.retargeted ? [] : argmaxRows(result.logits, classes).flatMap((call, row) => (call !== explained[row % n] ? [row] : []));
    for (const method of [...new Set(methods)]) {
      let mapsOfViews = result.maps[method]!;
      let blankedOfViews = result.blanked[method]!;
      try {
        if (CLASS_SPECIFIC_METHODS.includes(method) && disagreeing.length > 0) {
          const remade = remakeViewMaps(model, views, mapsOfViews, blankedOfViews, method, disagreeing, disagreeing.map((row) => explained[row % n]));
          mapsOfViews.dispose();
          ({ maps: mapsOfViews, blanked: blankedOfViews } = remade);
        }
        pass.maps[method] = meanMapOfViews(mapsOfViews);
        pass.blanked[method] = anyViewOf(blankedOfViews, n);
      } finally {
        mapsOfViews.dispose();
      }
    }
    return pass;
  } finally {
    views.dispose();
  }
}

/**
 * The view maps [8N, 1, H, W] (view-major, each in its view's orientation) with the rows `rows` made
 * again for the classes `targets`, and their blanked flags likewise.
 */
function remakeViewMaps(model: AplNet, views: Tensor, maps: Tensor, blanked: readonly boolean[], method: ExplainMethod, rows: number[], targets: number[]): { maps: Tensor; blanked: boolean[] } {
  const redone = tidy(() => {
    const picked = views.indexSelect(0, tensor(rows, { dtype: 'int64' }).to({ device: views.device }));
    return zeroNonFiniteMaps(explain(model, picked, { method, target: targets }));
  });
  const total = blanked.length;
  const position = new Map(rows.map((row, j) => [row, total + j]));
  const merged = tidy(() => cat([maps, redone.maps], 0).indexSelect(0, tensor(Array.from({ length: total }, (_, r) => position.get(r) ?? r), { dtype: 'int64' }).to({ device: redone.maps.device })));
  redone.maps.dispose();
  return { maps: merged, blanked: blanked.map((flag, r) => { const at = position.get(r); return at === undefined ? flag : redone.blanked[at - total]; }) };
}

/** Per image: whether any of its eight view rows is set. */
function anyViewOf(flags: boolean[], n: number): boolean[] {
  return Array.from({ length: n }, (_, i) => DIHEDRAL_VIEWS.some((_, v) => flags[v * n + i]));
}

function setMaps(pass: ModelPass, method: ExplainMethod, maps: { maps: Tensor; blanked: boolean[] }): void {
  pass.maps[method]?.dispose();
  pass.maps[method] = maps.maps;
  pass.blanked[method] = maps.blanked;
}

/** Every view's map of `method` for the given class of its image, back in the input's orientation and averaged. */
function gradientMapOfViews(model: AplNet, views: Tensor, method: ExplainMethod, targets: number[]): { maps: Tensor; blanked: boolean[] } {
  return tidy(() => {
    const checked = zeroNonFiniteMaps(explain(model, views, { method, target: DIHEDRAL_VIEWS.flatMap(() => targets) }));
    return { maps: meanMapOfViews(checked.maps), blanked: anyViewOf(checked.blanked, targets.length) };
  });
}

/** Makes the pass's gradient maps explain `targets` where they explain another class (an ensemble's call). */
export function reexplainPass(model: AplNet, x: Tensor, pass: ModelPass, methods: readonly ExplainMethod[], tta: TtaMode, targets: number[]): void {
  if (targets.every((c, i) => c === pass.explained[i])) return;
  for (const method of [...new Set(methods)].filter((m) => CLASS_SPECIFIC_METHODS.includes(m))) {
    if (tta === 'on') {
      const views = dihedralBatch(x);
      try {
        setMaps(pass, method, gradientMapOfViews(model, views, method, targets));
      } finally {
        views.dispose();
      }
    } else {
      setMaps(pass, method, tidy(() => zeroNonFiniteMaps(explain(model, x, { method, target: targets }))));
    }
  }
  pass.explained = [...targets];
}
