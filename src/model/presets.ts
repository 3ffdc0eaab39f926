// Named configurations, timm-style: a new variant is one entry here, not new code.
// Parameters and multiply-adds are computed from the built network (describePreset), never typed in;
// the figures in the comments are what describePreset gives for 8 classes, for the reader.
import type { ModelConfig } from './config.js';

export type PresetConfig = Omit<ModelConfig, 'numClasses'>;

const ATTENTION_DEFAULT = {
  // After stage 1 the map is 1/8 of the input side (18×18 at 144 px, 28×28 at 224 px), fine enough
  // to outline one cell; the second module after stage 2 (1/16) adds a coarser, more semantic map.
  placement: 'after-stages',
  stages: [1, 2],
  kernelSize: 7,
  channelReduction: 0,
} as const;

/** The paper's design: torchvision's ResNet body (zero padding, output stride 32) and average pooling. */
const CBAM_BODY = { paddingMode: 'zeros', outputStride: 32, head: 'average-pool' } as const;
/**
 * The faithful-map design: the head pools with its own attention map at 1/8 of the input side
 * (later stages dilate instead of striding), and every convolution replicates the border: with zero
 * padding a constant image gives different features at the edge, which showed as a frame in every
 * map of a blank image (CV 0.16–2.1 on constant/white/black images; 0.000 with replicate padding).
 */
const ATTENTION_POOL_BODY = { paddingMode: 'replicate', outputStride: 8, head: 'attention-pool' } as const;

/** The CBAM spatial gates after stages 1 and 2, as the paper places them (fresh arrays per preset). */
const cbamGates = (channelReduction = 0) => ({ ...ATTENTION_DEFAULT, stages: [...ATTENTION_DEFAULT.stages], channelReduction });

/** Small and fast on two CPU cores: 144 px, stages 24/48/96/192 with one basic block each. */
type Network = Omit<PresetConfig, 'name' | keyof typeof CBAM_BODY>;

const SMALL: Network = {
  inputSize: 144, inChannels: 3, stemWidth: 24, stemKernel: 7,
  widths: [24, 48, 96, 192], depths: [1, 1, 1, 1], block: 'basic', attention: cbamGates(), dropout: 0.2,
};

/** ResNet-18 scale at 224 px: stages 64/128/256/512 with two basic blocks each. */
const MEDIUM: Network = {
  inputSize: 224, inChannels: 3, stemWidth: 64, stemKernel: 7,
  widths: [64, 128, 256, 512], depths: [2, 2, 2, 2], block: 'basic', attention: cbamGates(), dropout: 0.3,
};

export const PRESETS: Readonly<Record<string, PresetConfig>> = {
  /** SMALL with the paper's body. ≈ 0.70 M parameters, ≈ 66 M multiply-adds per image. */
  'aplnet-s': { name: 'aplnet-s', ...SMALL, ...CBAM_BODY },
  /** MEDIUM with the paper's body. ≈ 11.2 M parameters, ≈ 1.82 G multiply-adds. */
  'aplnet-m': { name: 'aplnet-m', ...MEDIUM, ...CBAM_BODY },
  /** ResNet-50 scale at 224 px: bottleneck blocks 3/4/6/3, CBAM channel + spatial attention. ≈ 23.6 M parameters, ≈ 4.1 G multiply-adds. */
  'aplnet-l': { name: 'aplnet-l', ...MEDIUM, depths: [3, 4, 6, 3], block: 'bottleneck', attention: cbamGates(16), ...CBAM_BODY },
  /**
   * SMALL with the attention-pooling head: stages 2 and 3 dilated (output stride 8), so the map
   * the head pools with is 18×18 at 144 px, and replicate padding, so a blank image gives a flat map.
   * The CBAM gates stay, so every explanation method applies. ≈ 0.70 M parameters, ≈ 252 M multiply-adds (3.8× aplnet-s: stages 2 and 3 run at 18×18).
   */
  'aplnet-s-ap': { name: 'aplnet-s-ap', ...SMALL, ...ATTENTION_POOL_BODY },
  /** MEDIUM with the attention-pooling head (28×28 map at 224 px). ≈ 11.2 M parameters, ≈ 9.2 G multiply-adds (5× aplnet-m: for a GPU). */
  'aplnet-m-ap': { name: 'aplnet-m-ap', ...MEDIUM, ...ATTENTION_POOL_BODY },
};

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/** A preset's full config for a dataset with `numClasses` classes (a fresh copy, safe to edit). */
export function presetConfig(name: string, numClasses: number): ModelConfig {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown model preset "${name}": choose one of ${presetNames().join(', ')}`);
  return { ...structuredClone(preset), numClasses };
}
