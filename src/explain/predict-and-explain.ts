// Prediction and its explanations from ONE pass: the logits and every map asked for come from the
// same forward (and, when a method needs gradients, the same backward of the predicted class's
// score), because capture.ts keeps the attention maps and the Grad-CAM layer at once. This is what
// predict and serve show a user for every image, under explain's method names.
import type { AplNet } from '../model/index.js';
import { tidy, type Tensor } from '../torch/index.js';
import { captureActivationsAndGradients } from './capture.js';
import { captureRequestFor, checkExplainMethods, mapFromPass, type ExplainMethod, type MapOptions } from './explain.js';
import { zeroNonFiniteMaps } from './finite-maps.js';

export interface PredictionWithMaps {
  /**
   * [N, C] float32 values, row-major, exactly as the model gave them: a NaN or Inf stays there, so
   * the caller turns that row into an error or a referral instead of a call.
   */
  logits: Float32Array;
  /** The maps asked for, [N, 1, H, W] in [0, 1] at the input size, explaining the predicted class; the caller disposes them. */
  maps: Partial<Record<ExplainMethod, Tensor>>;
  /**
   * Per method asked for, per image: true where that map held NaN or Inf and was replaced by all
   * zeros (never a map with NaN). A row of non-finite logits always blanks its gradient maps.
   */
  blanked: Partial<Record<ExplainMethod, boolean[]>>;
  /** [N, D] float32 row-major: each image's embedding (what the head reads), from the same pass. */
  embeddings: Float32Array;
  /** D, the embedding's length. */
  embeddingSize: number;
  /**
   * The class each row's class-specific maps explain, when they were made for classes chosen from
   * the logits by `targetsFromLogits` (forward-only methods); null when they explain each row's own
   * predicted class.
   */
  retargeted: number[] | null;
}

/** Methods whose map needs the gradient of the explained class's score: their class must be known before the backward. */
const GRADIENT_METHODS: readonly ExplainMethod[] = ['attention-grad', 'gradcam', 'gradcam++'];

export interface PredictAndExplainOptions extends MapOptions {
  /**
   * Chooses the class each row's maps explain from the pass's logits ([N, C] row-major), e.g. the
   * call of the mean over a batch of views. Used only when no method asked for needs gradients (a
   * forward-only map can be made for any class from the same pass); otherwise the maps explain each
   * row's own predicted class and `retargeted` is null.
   */
  targetsFromLogits?: (logits: Float32Array, classes: number) => number[];
}

/** images [N, C, H, W]; methods: any subset of EXPLAIN_METHODS (none: logits only, one no-grad forward). */
export function predictAndExplain(model: AplNet, images: Tensor, methods: readonly ExplainMethod[], options: PredictAndExplainOptions = {}): PredictionWithMaps {
  checkExplainMethods(methods);
  const [, , height, width] = images.shape;
  const wanted = [...new Set(methods)];
  const request = captureRequestFor(model, wanted, 'predicted', options);
  return tidy(() => {
    const captured = captureActivationsAndGradients(model, images, request);
    const logits = captured.logits.to('float32').data<'float32'>();
    const retarget = options.targetsFromLogits && !wanted.some((m) => GRADIENT_METHODS.includes(m));
    const retargeted = retarget ? options.targetsFromLogits!(logits, captured.logits.shape[1]) : null;
    if (retargeted && retargeted.length !== captured.targets.length) throw new Error(`targetsFromLogits gave ${retargeted.length} classes for ${captured.targets.length} rows`);
    const pass = retargeted ? { ...captured, targets: retargeted } : captured;
    const maps: PredictionWithMaps['maps'] = {};
    const blanked: PredictionWithMaps['blanked'] = {};
    for (const method of wanted) {
      const map = mapFromPass(model, pass, method, [height, width], options);
      const checked = zeroNonFiniteMaps(map);
      maps[method] = checked.maps;
      blanked[method] = checked.blanked;
    }
    return { logits, maps, blanked, embeddings: pass.embedding.to('float32').data<'float32'>(), embeddingSize: pass.embedding.shape[1], retargeted };
  });
}
