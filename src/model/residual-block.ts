// What the network needs from a residual block, whichever kind it is, and the pieces both kinds share.
import { BatchNorm2d, Conv2d, Module, Sequential, init, type PaddingMode } from '../nn/index.js';
import type { Tensor } from '../torch/index.js';
import type { SpatialAttention } from './spatial-attention.js';
import { conv2dCost, type Cost, type FeatureShape } from './complexity.js';

export interface BlockOutput {
  out: Tensor;
  /** The block's own attention map when attention sits inside every block, else null. */
  map: Tensor | null;
}

export interface ResidualBlock extends Module {
  readonly outChannels: number;
  /** Attention inside the block (placement 'every-block'), else null. */
  readonly attention: SpatialAttention | null;
  forward(x: Tensor): BlockOutput;
  cost(shape: FeatureShape): Cost;
}

export interface ConvLayout {
  stride?: number;
  dilation?: number;
  paddingMode?: PaddingMode;
}

/** A convolution without bias (BN follows), initialized as torchvision's ResNet does; padding keeps the side (÷ stride). */
export function convNoBias(inChannels: number, outChannels: number, kernelSize: number, { stride = 1, dilation = 1, paddingMode = 'zeros' }: ConvLayout = {}): Conv2d {
  const padding = dilation * Math.floor(kernelSize / 2);
  const conv = new Conv2d(inChannels, outChannels, kernelSize, { stride, padding, dilation, paddingMode, bias: false });
  init.kaimingNormal_(conv.weight, { mode: 'fan_out', nonlinearity: 'relu' });
  return conv;
}

/**
 * The shortcut when the block changes resolution or width: 1×1 conv with the block's stride + BN,
 * keyed downsample.0 / downsample.1 as in torchvision. Null when the identity fits.
 */
export function projectionShortcut(inChannels: number, outChannels: number, stride: number): Sequential | null {
  if (stride === 1 && inChannels === outChannels) return null;
  return new Sequential(convNoBias(inChannels, outChannels, 1, { stride }), new BatchNorm2d(outChannels));
}

export function shortcutCost(shortcut: Sequential | null, shape: FeatureShape): number {
  return shortcut ? conv2dCost(shortcut.layers[0] as Conv2d, shape).macs : 0;
}
