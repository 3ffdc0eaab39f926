// One call shape for every explanation method, after pytorch-grad-cam:
// explain(model, images, { method, target }) → maps [N, 1, H, W] at the input's size, in [0, 1].
// Every method reads the same captured pass (capture.ts) and only supplies its weighting, so
// predictAndExplain can serve several methods from one forward and backward.
import type { AplNet } from '../model/index.js';
import { tidy, type Tensor } from '../torch/index.js';
import { combineAttentionMaps } from './attention-maps.js';
import { attentionPoolMaps } from './attention-pool-map.js';
import { evidenceMaps } from './evidence-map.js';
import { weightedAttention } from './attention-gradient.js';
import { captureActivationsAndGradients, type CaptureRequest, type CapturedPass } from './capture.js';
import { camFromGradients, chooseGradCamLayer } from './grad-cam.js';
import type { ExplainTarget } from './targets.js';

/**
 * The one vocabulary of maps, used by explain, predict, serve and the report:
 * 'attention' the model's raw spatial-attention (CBAM) map, 'attention-grad' that map weighted by
 * the target score's gradient, 'gradcam' and 'gradcam++' on one layer's activations, 'attention-pool'
 * the map an attention-pooling head sums its class evidence with (attention-pool-map.ts), 'evidence'
 * that map times the explained class's local evidence above the mean, each position's exact share of
 * the class's logit margin (evidence-map.ts).
 */
export type ExplainMethod = 'attention' | 'attention-grad' | 'gradcam' | 'gradcam++' | 'attention-pool' | 'evidence';
export const EXPLAIN_METHODS: readonly ExplainMethod[] = ['attention', 'attention-grad', 'gradcam', 'gradcam++', 'attention-pool', 'evidence'];
/** Methods whose map depends on which class is explained (the others show one map for every class). */
export const CLASS_SPECIFIC_METHODS: readonly ExplainMethod[] = ['attention-grad', 'gradcam', 'gradcam++', 'evidence'];

/** Where a method looks; shared by explain() and predictAndExplain(). */
export interface MapOptions {
  /** Grad-CAM layer, one of model.activationNames(); default the deepest stage, as in the Grad-CAM paper. */
  layer?: string;
  /** Attention modules to combine, by index into forward().attention; default all. */
  attentionModules?: number[];
}

export interface ExplainOptions extends MapOptions {
  method: ExplainMethod;
  /** Class explained: 'predicted' (default), one class index, or one index per image. Attention ignores it. */
  target?: ExplainTarget;
}

/** Refuses anything that is not a method name (names arrive from users of the CLI and the web API). */
export function checkExplainMethods(methods: readonly string[]): void {
  const unknown = methods.filter((m) => !(EXPLAIN_METHODS as readonly string[]).includes(m));
  if (unknown.length) throw new Error(`explain: unknown method "${unknown.join('", "')}"; choose from ${EXPLAIN_METHODS.join(', ')}`);
}

/** What one pass must keep so that every method in `methods` can be read from it. */
export function captureRequestFor(model: AplNet, methods: readonly ExplainMethod[], target: ExplainTarget, { layer }: MapOptions): CaptureRequest {
  const gradCam = methods.includes('gradcam') || methods.includes('gradcam++');
  return { target, layers: gradCam ? [chooseGradCamLayer(model, layer)] : [], attentionGradients: methods.includes('attention-grad') };
}

/** One method's [N, 1, height, width] map in [0, 1], read from a pass made with captureRequestFor. */
export function mapFromPass(model: AplNet, pass: CapturedPass, method: ExplainMethod, size: [number, number], options: MapOptions): Tensor {
  switch (method) {
    case 'attention':
      return combineAttentionMaps(pass.attention, size[0], size[1], options.attentionModules);
    case 'attention-grad':
      return weightedAttention(pass, size, options.attentionModules);
    case 'gradcam':
    case 'gradcam++': {
      const { value, grad } = pass.activations[chooseGradCamLayer(model, options.layer)];
      return camFromGradients(value, grad, method, size);
    }
    case 'attention-pool':
      return attentionPoolMaps(pass, size);
    case 'evidence':
      return evidenceMaps(pass, pass.targets, size);
  }
}

/** images: the model's input [N, C, H, W] (already normalized). Returns a new tensor the caller disposes. */
export function explain(model: AplNet, images: Tensor, options: ExplainOptions): Tensor {
  const { method, target = 'predicted' } = options;
  checkExplainMethods([method]);
  const [, , height, width] = images.shape;
  const request = captureRequestFor(model, [method], target, options);
  return tidy(() => mapFromPass(model, captureActivationsAndGradients(model, images, request), method, [height, width], options));
}

/**
 * The map aplnet shows unless asked otherwise. With an attention-pooling head: 'evidence', each
 * position's exact term of the called class's logit margin (the pooling weight times the local
 * evidence), so faithful by construction; chosen over the pooling weights alone on the validation
 * split (docs/explain-results.md: more of it on the cell, a lower deletion AUC, and it changes when
 * the weights are re-initialised). Else gradient-weighted attention (the CBAM gate oriented by the
 * predicted class's gradient).
 */
export function defaultExplainMethod(model: Pick<AplNet, 'config'>): ExplainMethod {
  return model.config.head === 'attention-pool' ? 'evidence' : 'attention-grad';
}

/** What predict, serve and the report draw by default: the default map, and Grad-CAM beside it. */
export function defaultExplainMethods(model: Pick<AplNet, 'config'>): ExplainMethod[] {
  return [defaultExplainMethod(model), 'gradcam'];
}
