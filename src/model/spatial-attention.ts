// The spatial attention module of CBAM, as the reference method (Yan et al., 2025) uses it:
// pool the feature map over channels (max and mean), convolve the two planes with a k×k kernel,
// batch-normalize, squash with a sigmoid, and multiply the features by that one-channel map.
// The map is also returned: it is what aplnet shows as pixel-level attention.
import { BatchNorm2d, Conv2d, Module, init, type PaddingMode } from '../nn/index.js';
import { cat, tidy, type Tensor } from '../torch/index.js';
import { ChannelAttention } from './channel-attention.js';
import { conv2dCost, type Cost, type FeatureShape } from './complexity.js';

export interface SpatialAttentionOptions {
  kernelSize: number;
  /** CBAM's channel attention first when > 0 (its MLP's reduction ratio). */
  channelReduction: number;
  /** Border fill of the k×k convolution (the model's paddingMode). */
  paddingMode: PaddingMode;
}

export interface AttentionOutput {
  /** The features multiplied by the map (and by the channel weights, when present). */
  out: Tensor;
  /** The attention map, [N, 1, H, W] in (0, 1), at the features' resolution. */
  map: Tensor;
}

export class SpatialAttention extends Module {
  readonly channel: ChannelAttention | null;
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(channels: number, { kernelSize, channelReduction, paddingMode }: SpatialAttentionOptions) {
    super();
    // Registration order does not matter for state dict keys; `channel` exists only when enabled,
    // as in the Python reference, so strict loading checks the configuration too.
    this.channel = channelReduction > 0 ? this.registerModule('channel', new ChannelAttention(channels, channelReduction)) : null;
    this.conv = this.registerModule('conv', new Conv2d(2, 1, kernelSize, { padding: Math.floor(kernelSize / 2), paddingMode, bias: false }));
    init.kaimingNormal_(this.conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
    this.bn = this.registerModule('bn', new BatchNorm2d(1));
  }
  forward(x: Tensor): AttentionOutput {
    return tidy(() => {
      const features = this.channel ? this.channel.forward(x) : x;
      const pooled = cat([features.amax(1, true), features.mean(1, true)], 1);
      const map = this.bn.forward(this.conv.forward(pooled)).sigmoid();
      return { out: features.mul(map), map };
    });
  }
  cost(shape: FeatureShape): Cost {
    const [, h, w] = shape;
    const channelMacs = this.channel ? this.channel.cost(shape).macs : 0;
    return { macs: channelMacs + conv2dCost(this.conv, [2, h, w]).macs, shape };
  }
}

