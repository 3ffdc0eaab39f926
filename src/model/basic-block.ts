// ResNet's basic block (He et al., 2016): 3×3 conv-BN-ReLU, 3×3 conv-BN, optional attention on the
// residual branch (CBAM's placement), plus the shortcut, then ReLU.
import { BatchNorm2d, Module, type Conv2d, type Sequential } from '../nn/index.js';
import { tidy, type Tensor } from '../torch/index.js';
import { chainCosts, conv2dCost, type Cost, type FeatureShape } from './complexity.js';
import { dropPath as dropBranch } from './drop-path.js';
import { convNoBias, projectionShortcut, shortcutCost, type BlockOutput, type ResidualBlock } from './residual-block.js';
import { SpatialAttention, type SpatialAttentionOptions } from './spatial-attention.js';
import type { BlockLayout } from './stage-plan.js';

export class BasicBlock extends Module implements ResidualBlock {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  readonly attention: SpatialAttention | null;
  readonly downsample: Sequential | null;
  /** Stochastic depth rate of the residual branch (0: never dropped). */
  readonly dropPathRate: number;
  constructor(inChannels: number, readonly outChannels: number, { stride, entryDilation, dilation, paddingMode, dropPath = 0 }: BlockLayout, attention: SpatialAttentionOptions | null) {
    super();
    this.dropPathRate = dropPath;
    this.conv1 = this.registerModule('conv1', convNoBias(inChannels, outChannels, 3, { stride, dilation: entryDilation, paddingMode }));
    this.bn1 = this.registerModule('bn1', new BatchNorm2d(outChannels));
    this.conv2 = this.registerModule('conv2', convNoBias(outChannels, outChannels, 3, { dilation, paddingMode }));
    this.bn2 = this.registerModule('bn2', new BatchNorm2d(outChannels));
    this.attention = attention ? this.registerModule('attention', new SpatialAttention(outChannels, attention)) : null;
    const shortcut = projectionShortcut(inChannels, outChannels, stride);
    this.downsample = shortcut ? this.registerModule('downsample', shortcut) : null;
  }
  forward(x: Tensor): BlockOutput {
    return tidy(() => {
      let branch = this.bn2.forward(this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()));
      let map: Tensor | null = null;
      if (this.attention) ({ out: branch, map } = this.attention.forward(branch));
      branch = dropBranch(branch, this.dropPathRate, this.training);
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return { out: branch.add(identity).relu(), map };
    });
  }
  cost(shape: FeatureShape): Cost {
    const main = chainCosts(shape, [(s) => conv2dCost(this.conv1, s), (s) => conv2dCost(this.conv2, s)]);
    const attentionMacs = this.attention ? this.attention.cost(main.shape).macs : 0;
    return { macs: main.macs + attentionMacs + shortcutCost(this.downsample, shape), shape: main.shape };
  }
}
