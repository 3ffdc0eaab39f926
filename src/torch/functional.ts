// Neural-network ops with PyTorch's torch.nn.functional names and defaults.
import { native } from './native.js';
import { Tensor } from './tensor.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(native.linear(x.handle, weight.handle, bias?.handle ?? null));
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
}
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, o: Conv2dOptions = {}): Tensor {
  return new Tensor(native.conv2d(x.handle, weight.handle, bias?.handle ?? null, pair(o.stride ?? 1), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.groups ?? 1));
}

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  training?: boolean;
  momentum?: number;
  eps?: number;
}
/** Batch norm over dim 1; in training the running statistics are updated in place. */
export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, o: BatchNormOptions = {}): Tensor {
  return new Tensor(native.batchNorm(x.handle, o.weight?.handle ?? null, o.bias?.handle ?? null, runningMean?.handle ?? null, runningVar?.handle ?? null, o.training ?? false, o.momentum ?? 0.1, o.eps ?? 1e-5));
}

export const relu = (x: Tensor): Tensor => x.relu();
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
export const softmax = (x: Tensor, dim: number): Tensor => x.softmax(dim);
export const logSoftmax = (x: Tensor, dim: number): Tensor => x.logSoftmax(dim);

export interface PoolOptions {
  stride?: Pair;
  padding?: Pair;
  ceilMode?: boolean;
}
export function maxPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions & { dilation?: Pair } = {}): Tensor {
  return new Tensor(native.maxPool2d(x.handle, pair(kernelSize), pair(o.stride ?? kernelSize), pair(o.padding ?? 0), pair(o.dilation ?? 1), o.ceilMode ?? false));
}
export function avgPool2d(x: Tensor, kernelSize: Pair, o: PoolOptions & { countIncludePad?: boolean } = {}): Tensor {
  return new Tensor(native.avgPool2d(x.handle, pair(kernelSize), pair(o.stride ?? kernelSize), pair(o.padding ?? 0), o.ceilMode ?? false, o.countIncludePad ?? true));
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveAvgPool2d(x.handle, pair(outputSize)));
}
export function adaptiveMaxPool2d(x: Tensor, outputSize: Pair): Tensor {
  return new Tensor(native.adaptiveMaxPool2d(x.handle, pair(outputSize)));
}

/** Bilinear resize of an NCHW tensor to [height, width] (F.interpolate mode='bilinear'). */
export function interpolateBilinear(x: Tensor, size: [number, number], alignCorners = false): Tensor {
  return new Tensor(native.interpolateBilinear(x.handle, size, alignCorners));
}

/** How F.pad fills the border: a constant, the mirror image without the edge ('reflect'), or the edge repeated ('replicate'). */
export type PadMode = 'constant' | 'reflect' | 'replicate';
/** F.pad for NCHW tensors: pads = [left, right, top, bottom]; value is used by 'constant' only. */
export function pad2d(x: Tensor, pads: [number, number, number, number], mode: PadMode = 'constant', value = 0): Tensor {
  return new Tensor(native.pad2d(x.handle, pads, mode, value));
}

export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  return new Tensor(native.dropout(x.handle, p, training));
}

export interface CrossEntropyOptions {
  /** Per-class weights (float tensor of length C). */
  weight?: Tensor | null;
  reduction?: 'none' | 'mean' | 'sum';
  labelSmoothing?: number;
}
const REDUCTIONS = { none: 0, mean: 1, sum: 2 } as const;
/** Cross-entropy of logits [N, C] against int64 class indices [N]. */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  const smoothing = o.labelSmoothing ?? 0;
  if (!(smoothing >= 0 && smoothing <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${smoothing}`);
  return new Tensor(native.crossEntropy(logits.handle, target.handle, o.weight?.handle ?? null, REDUCTIONS[o.reduction ?? 'mean'], smoothing));
}

export function cat(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(native.cat(tensors.map((t) => t.handle), dim));
}
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return new Tensor(native.stack(tensors.map((t) => t.handle), dim));
}
/** Elements of a where cond is true, else of b. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return new Tensor(native.where(cond.handle, a.handle, b.handle));
}
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  return new Tensor(native.oneHot(indices.handle, numClasses));
}
