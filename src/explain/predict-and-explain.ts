// Prediction and its explanations from ONE forward and ONE backward pass: the logits, the
// gradient-weighted attention maps and Grad-CAM all come from the same graph, because the gradient
// of the predicted class's score reaches the attention maps and the last stage's activations at
// once. This is what predict and serve show a user for every image.
import type { AplNet } from '../model/index.js';
import { enableGrad, noGrad, tidy, type Tensor } from '../torch/index.js';
import { weightedAttention } from './attention-gradient.js';
import { camFromGradients } from './grad-cam.js';
import { inEvalMode, withFrozenParameters } from './model-modes.js';

export type PredictionOverlay = 'attention' | 'gradcam';

export interface PredictionWithMaps {
  /** [N, C] float32 values, row-major. */
  logits: Float32Array;
  /** Requested maps, [N, 1, H, W] in [0, 1] at the input size; the caller disposes them. */
  maps: Partial<Record<PredictionOverlay, Tensor>>;
}

/**
 * 'attention' is gradient-weighted attention (see attention-gradient.ts): the raw CBAM gate was
 * measured to open on the background of PBC smears, which would mislead a reader of the overlay.
 * 'gradcam' uses the deepest stage. Both explain the predicted class.
 */
export function predictAndExplain(model: AplNet, images: Tensor, overlays: readonly PredictionOverlay[]): PredictionWithMaps {
  const [n, , height, width] = images.shape;
  if (overlays.length === 0) {
    return inEvalMode(model, () => ({ logits: tidy(() => noGrad(() => model.forward(images).logits.to('float32').data<'float32'>())), maps: {} }));
  }
  const layer = model.activationNames().at(-1)!;
  return inEvalMode(model, () => withFrozenParameters(model, () => tidy(() => {
    const { logits, attention, activation } = enableGrad(() => {
      const input = images.detach().requiresGrad_(true);
      const out = model.forward(input, { keepActivations: overlays.includes('gradcam') ? [layer] : [] });
      if (overlays.includes('attention')) {
        if (out.attention.length === 0) throw new Error('this model has no attention modules; ask for the gradcam overlay instead');
        for (const map of out.attention) map.retainGrad();
      }
      const predicted = out.logits.argmax(1).reshape([n, 1]);
      out.logits.gather(1, predicted).sum().backward();
      return {
        logits: out.logits.detach(),
        attention: overlays.includes('attention') ? out.attention.map((m) => ({ map: m.detach(), grad: m.grad! })) : [],
        activation: overlays.includes('gradcam') ? { value: out.activations[layer].detach(), grad: out.activations[layer].grad! } : null,
      };
    });
    return noGrad(() => {
      const maps: PredictionWithMaps['maps'] = {};
      if (attention.length) maps.attention = weightedAttention(attention, [height, width]);
      if (activation) maps.gradcam = camFromGradients(activation.value, activation.grad, 'gradcam', [height, width]);
      return { logits: logits.to('float32').data<'float32'>(), maps };
    });
  })));
}
