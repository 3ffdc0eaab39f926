// CBAM's channel attention (Woo et al., 2018): a shared two-layer MLP scores each channel from its
// global average and its global maximum; the sigmoid of the summed scores reweights the channels.
// The MLP is written as 1×1 convolutions without bias, so it applies to [N, C, 1, 1] directly.
import { Conv2d, Module } from '../nn/index.js';
import { F, tidy, type Tensor } from '../torch/index.js';
import type { Cost, FeatureShape } from './complexity.js';

export class ChannelAttention extends Module {
  readonly fc1: Conv2d;
  readonly fc2: Conv2d;
  constructor(readonly channels: number, reduction: number) {
    super();
    const hidden = Math.max(1, Math.floor(channels / reduction));
    this.fc1 = this.registerModule('fc1', new Conv2d(channels, hidden, 1, { bias: false }));
    this.fc2 = this.registerModule('fc2', new Conv2d(hidden, channels, 1, { bias: false }));
  }
  private mlp(pooled: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(pooled).relu());
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const score = this.mlp(F.adaptiveAvgPool2d(x, 1)).add(this.mlp(F.adaptiveMaxPool2d(x, 1)));
      return x.mul(score.sigmoid());
    });
  }
  /** The MLP runs twice (average and max branch) on 1×1 inputs. */
  cost(shape: FeatureShape): Cost {
    const hidden = this.fc1.outChannels;
    return { macs: 2 * 2 * this.channels * hidden, shape };
  }
}
