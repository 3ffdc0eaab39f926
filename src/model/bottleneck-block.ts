// ResNet's bottleneck block (ResNet-50 style, stride on the 3×3 conv as in torchvision v1.5):
// 1×1 reduce, 3×3, 1×1 expand to 4× the width, optional attention on the residual branch,
// plus the shortcut, then ReLU. Cheaper per channel than basic blocks for wide, deep presets.
import { BatchNorm2d, Module, type Conv2d, type Sequential } from '../nn/index.js';
import { tidy, type Tensor } from '../torch/index.js';
import { chainCosts, conv2dCost, type Cost, type FeatureShape } from './complexity.js';
import { dropPath as dropBranch } from './drop-path.js';
import { convNoBias, projectionShortcut, shortcutCost, type BlockOutput, type ResidualBlock } from './residual-block.js';
import { SpatialAttention, type SpatialAttentionOptions } from './spatial-attention.js';
import type { BlockLayout } from './stage-plan.js';

export const BOTTLENECK_EXPANSION = 4;

export class BottleneckBlock extends Module implements ResidualBlock {
  readonly outChannels: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly conv3: Conv2d;
  readonly bn3: BatchNorm2d;
  readonly attention: SpatialAttention | null;
  readonly downsample: Sequential | null;
  /** Stochastic depth rate of the residual branch (0: never dropped). */
  readonly dropPathRate: number;
  constructor(inChannels: number, width: number, { stride, entryDilation, paddingMode, dropPath = 0 }: BlockLayout, attention: SpatialAttentionOptions | null) {
    super();
    this.dropPathRate = dropPath;
    this.outChannels = width * BOTTLENECK_EXPANSION;
    this.conv1 = this.registerModule('conv1', convNoBias(inChannels, width, 1));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(width));
    this.conv2 = this.registerModule('conv2', convNoBias(width, width, 3, { stride, dilation: entryDilation, paddingMode }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(width));
    this.conv3 = this.registerModule('conv3', convNoBias(width, this.outChannels, 1));
    this.bn3 = this.registerModule('bn3', new BatchNorm2d(this.outChannels));
    this.attention = attention ? this.registerModule('attention', new SpatialAttention(this.outChannels, attention)) : null;
    const shortcut = projectionShortcut(inChannels, this.outChannels, stride);
    this.downsample = shortcut ? this.registerModule('downsample', shortcut) : null;
  }
  forward(x: Tensor): BlockOutput {
    return tidy(() => {
      const reduced = this.bn1.forward(this.conv1.forward(x)).relu();
      const spatial = this.bn2.forward(this.conv2.forward(reduced)).relu();
      let branch = this.bn3.forward(this.conv3.forward(spatial));
      let map: Tensor | null = null;
      if (this.attention) ({ out: branch, map } = this.attention.forward(branch));
      branch = dropBranch(branch, this.dropPathRate, this.training);
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return { out: branch.add(identity).relu(), map };
    });
  }
  cost(shape: FeatureShape): Cost {
    const main = chainCosts(shape, [(s) => conv2dCost(this.conv1, s), (s) => conv2dCost(this.conv2, s), (s) => conv2dCost(this.conv3, s)]);
    const attentionMacs = this.attention ? this.attention.cost(main.shape).macs : 0;
    return { macs: main.macs + attentionMacs + shortcutCost(this.downsample, shape), shape: main.shape };
  }
}
