// The one forward (and backward) every explanation reads from, after pytorch-grad-cam's
// ActivationsAndGradients: a forward that keeps the wanted activations and attention maps, one
// backward of the target scores, and each method then only supplies its weighting. Grad-CAM,
// Grad-CAM++, gradient-weighted attention, raw attention and predictAndExplain all use it, so asking
// for several maps costs one pass and they all describe the same logits.
import type { AplNet } from '../model/index.js';
import { enableGrad, noGrad, tensor, type Tensor } from '../torch/index.js';
import { inEvalMode, withFrozenParameters } from './model-modes.js';
import { resolveTargets, type ExplainTarget } from './targets.js';

export interface CaptureRequest {
  /** Whose score is differentiated: 'predicted' (default), one class index, or one per image. */
  target?: ExplainTarget;
  /** Activations to keep with their gradients, by name from model.activationNames(). */
  layers?: readonly string[];
  /** Keep the gradient of every attention map too (for gradient-weighted attention). */
  attentionGradients?: boolean;
}

/** A kept tensor and the target scores' gradient with respect to it, both detached. */
export interface Captured {
  value: Tensor;
  grad: Tensor;
}

export interface CapturedPass {
  /** [N, classes] logits of this pass, detached, exactly as the model gave them (NaN included). */
  logits: Tensor;
  /** The class each image is explained for (its score differentiated when a method needed a backward). */
  targets: number[];
  activations: Record<string, Captured>;
  /** Every attention map of the forward, [N, 1, h, w] in network order, detached. */
  attention: Tensor[];
  /** ∂score/∂map for each of `attention`, when attentionGradients was asked for; else empty. */
  attentionGradients: Tensor[];
  /** An attention-pooling head's map [N, 1, h, w], detached; null for an average-pool head. */
  pooling: Tensor | null;
  /** An attention-pooling head's per-position class evidence [N, classes, h, w], detached; null for an average-pool head. */
  poolingEvidence: Tensor | null;
  /** [N, D] the model's embedding of each image (ForwardResult.embedding), detached. */
  embedding: Tensor;
}

/**
 * Runs the model in eval mode with its parameters untouched. When no gradient is asked for it is a
 * plain no-grad forward. Every tensor it makes, the returned ones included, is created in the
 * caller's scope: call it inside tidy() and keep only the maps made from it.
 */
export function captureActivationsAndGradients(model: AplNet, images: Tensor, { target = 'predicted', layers = [], attentionGradients = false }: CaptureRequest = {}): CapturedPass {
  return inEvalMode(model, () => {
    if (layers.length === 0 && !attentionGradients) {
      const out = noGrad(() => model.forward(images));
      return { logits: out.logits, targets: resolveTargets(out.logits, target), activations: {}, attention: out.attention, attentionGradients: [], pooling: out.pooling?.attention ?? null, poolingEvidence: out.pooling?.evidence ?? null, embedding: out.embedding };
    }
    return withFrozenParameters(model, () => enableGrad(() => {
      // With the parameters frozen, the input carries requiresGrad so the graph reaches every kept tensor.
      const input = images.detach().requiresGrad_(true);
      const out = model.forward(input, { keepActivations: [...layers] });
      if (attentionGradients) for (const map of out.attention) map.retainGrad();
      const targets = resolveTargets(out.logits, target);
      const classes = tensor(targets, { dtype: 'int64', device: out.logits.device }).reshape([targets.length, 1]);
      // Images are independent in eval mode, so one backward of the summed scores gives each its own gradient.
      out.logits.gather(1, classes).sum().backward();
      const activations: Record<string, Captured> = {};
      for (const name of layers) activations[name] = { value: out.activations[name].detach(), grad: out.activations[name].grad! };
      return {
        logits: out.logits.detach(),
        targets,
        activations,
        attention: out.attention.map((map) => map.detach()),
        attentionGradients: attentionGradients ? out.attention.map((map) => map.grad!) : [],
        pooling: out.pooling ? out.pooling.attention.detach() : null,
        poolingEvidence: out.pooling ? out.pooling.evidence.detach() : null,
        embedding: out.embedding.detach(),
      };
    }));
  });
}
