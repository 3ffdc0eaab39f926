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
}

/** images [N, C, H, W]; methods: any subset of EXPLAIN_METHODS (none: logits only, one no-grad forward). */
export function predictAndExplain(model: AplNet, images: Tensor, methods: readonly ExplainMethod[], options: MapOptions = {}): PredictionWithMaps {
  checkExplainMethods(methods);
  const [, , height, width] = images.shape;
  const wanted = [...new Set(methods)];
  const request = captureRequestFor(model, wanted, 'predicted', options);
  return tidy(() => {
    const pass = captureActivationsAndGradients(model, images, request);
    const maps: PredictionWithMaps['maps'] = {};
    const blanked: PredictionWithMaps['blanked'] = {};
    for (const method of wanted) {
      const map = mapFromPass(model, pass, method, [height, width], options);
      const checked = zeroNonFiniteMaps(map);
      maps[method] = checked.maps;
      blanked[method] = checked.blanked;
    }
    return { logits: pass.logits.to('float32').data<'float32'>(), maps, blanked, embeddings: pass.embedding.to('float32').data<'float32'>(), embeddingSize: pass.embedding.shape[1] };
  });
}
