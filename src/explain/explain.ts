// One call shape for every explanation method, after pytorch-grad-cam:
// explain(model, images, { method, target }) → maps [N, 1, H, W] at the input's size, in [0, 1].
import type { AplNet } from '../model/index.js';
import type { Tensor } from '../torch/index.js';
import { attentionExplanation } from './attention-maps.js';
import { attentionGradientExplanation } from './attention-gradient.js';
import { gradCamExplanation } from './grad-cam.js';
import type { ExplainTarget } from './targets.js';

export type ExplainMethod = 'attention' | 'attention-grad' | 'gradcam' | 'gradcam++';
export const EXPLAIN_METHODS: readonly ExplainMethod[] = ['attention', 'attention-grad', 'gradcam', 'gradcam++'];

export interface ExplainOptions {
  method: ExplainMethod;
  /** Class explained: 'predicted' (default), one class index, or one index per image. Attention ignores it. */
  target?: ExplainTarget;
  /** Grad-CAM layer, one of model.activationNames(); default the deepest stage, as in the Grad-CAM paper. */
  layer?: string;
  /** Attention modules to combine, by index into forward().attention; default all. */
  attentionModules?: number[];
}

/** images: the model's input [N, C, H, W] (already normalized). Returns a new tensor the caller disposes. */
export function explain(model: AplNet, images: Tensor, options: ExplainOptions): Tensor {
  const { method, target = 'predicted' } = options;
  switch (method) {
    case 'attention':
      return attentionExplanation(model, images, options.attentionModules);
    case 'attention-grad':
      return attentionGradientExplanation(model, images, target, options.attentionModules);
    case 'gradcam':
    case 'gradcam++': {
      const names = model.activationNames();
      const layer = options.layer ?? names[names.length - 1];
      if (!names.includes(layer)) throw new Error(`explain: unknown layer "${layer}"; choose from ${names.join(', ')}`);
      return gradCamExplanation(model, images, { variant: method, target, layer });
    }
    default:
      throw new Error(`explain: unknown method "${method as string}"; choose from ${EXPLAIN_METHODS.join(', ')}`);
  }
}
