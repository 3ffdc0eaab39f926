// Attention pooling in place of global average pooling (after Jetley et al., "Learn to Pay
// Attention", ICLR 2018, and CAM): one softmax map a over the positions of the last feature map F,
// and per-position class evidence E = W·F + b (the linear head applied at every position, a 1×1
// conv). The logits ARE Σ_positions a · E, computed as that sum, so the map is faithful by
// construction: a class score is exactly the map-weighted sum of local evidence, nothing else
// reaches it, and a position the map gives weight 0 cannot move the score at all.
// With a ≡ 1/(h·w) this is global average pooling followed by the linear head.
import { Conv2d, Module, init } from '../nn/index.js';
import { tidy, type Tensor } from '../torch/index.js';
import { conv2dCost, type Cost, type FeatureShape } from './complexity.js';

/** What attention pooling computed, as forward() returns it (both in the caller's scope). */
export interface AttentionPooling {
  /** [N, 1, h, w], ≥ 0, summing to 1 over the h·w positions of each image: the weights of the pooling. */
  attention: Tensor;
  /** [N, classes, h, w]: each position's class scores; logits = Σ_hw attention · evidence. */
  evidence: Tensor;
}

/** The scores of the spatial softmax: a 1×1 convolution of the features, one map shared by every class. */
export class AttentionPool extends Module {
  readonly score: Conv2d;
  constructor(channels: number) {
    super();
    // No bias: the softmax is blind to a constant. Zero weights make training start as global
    // average pooling (a uniform map) and learn where to look from there.
    this.score = this.registerModule('score', new Conv2d(channels, 1, 1, { bias: false }));
    init.constant_(this.score.weight, 0);
  }
  /** features [N, D, h, w] → the attention map [N, 1, h, w], a softmax over the positions of each image. */
  forward(features: Tensor): Tensor {
    const [n, , h, w] = features.shape;
    return tidy(() => this.score.forward(features).reshape([n, h * w]).softmax(1).reshape([n, 1, h, w]));
  }
  cost(shape: FeatureShape): Cost {
    return conv2dCost(this.score, shape);
  }
}

/** The head of an attention-pooling model: logits [N, C] as the map-weighted sum of the evidence. */
export function attentionPooledLogits({ attention, evidence }: AttentionPooling): Tensor {
  return tidy(() => evidence.mul(attention).sum([2, 3]));
}
