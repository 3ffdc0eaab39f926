// Multiply-adds counted analytically from layer hyper-parameters. Convention (torchvision's and
// fvcore's tables): convolutions and linear layers only; batch norm, activations, pooling and the
// element-wise attention product are a few percent at most and are left out, so the figures
// compare directly with published ResNet numbers (ResNet-18: 1.82 G at 224 px).
import type { Conv2d, Linear } from '../nn/index.js';

/** Channels, height and width of one image's feature map. */
export type FeatureShape = [number, number, number];
export interface Cost {
  macs: number;
  shape: FeatureShape;
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Output side of a convolution or pooling window, as PyTorch computes it (floor mode). */
export function outputSide(side: number, kernel: number, stride: number, padding: number, dilation = 1): number {
  return Math.floor((side + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1;
}

export function conv2dCost(conv: Conv2d, [, h, w]: FeatureShape): Cost {
  const [kh, kw] = pair(conv.kernelSize);
  const [sh, sw] = pair(conv.options.stride ?? 1);
  const [ph, pw] = pair(conv.options.padding ?? 0);
  const [dh, dw] = pair(conv.options.dilation ?? 1);
  const oh = outputSide(h, kh, sh, ph, dh);
  const ow = outputSide(w, kw, sw, pw, dw);
  const groups = conv.options.groups ?? 1;
  return { macs: conv.outChannels * (conv.inChannels / groups) * kh * kw * oh * ow, shape: [conv.outChannels, oh, ow] };
}

export function linearMacs(linear: Linear): number {
  return linear.inFeatures * linear.outFeatures;
}

/** Runs costs in sequence: each step gets the shape the previous one produced. */
export function chainCosts(shape: FeatureShape, steps: ((s: FeatureShape) => Cost)[]): Cost {
  let macs = 0;
  let current = shape;
  for (const step of steps) {
    const cost = step(current);
    macs += cost.macs;
    current = cost.shape;
  }
  return { macs, shape: current };
}
