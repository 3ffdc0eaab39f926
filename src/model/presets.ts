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

export const PRESETS: Readonly<Record<string, PresetConfig>> = {
  /**
   * Small and fast on two CPU cores: 144 px, stages 24/48/96/192 with one basic block each.
   * ≈ 0.70 M parameters, ≈ 55 M multiply-adds per image.
   */
  'aplnet-s': {
    name: 'aplnet-s', inputSize: 144, inChannels: 3, stemWidth: 24, stemKernel: 7,
    widths: [24, 48, 96, 192], depths: [1, 1, 1, 1], block: 'basic',
    attention: { ...ATTENTION_DEFAULT, stages: [...ATTENTION_DEFAULT.stages] }, dropout: 0.2,
  },
  /** ResNet-18 scale at 224 px: stages 64/128/256/512 with two basic blocks each. ≈ 11.2 M parameters, ≈ 1.82 G multiply-adds. */
  'aplnet-m': {
    name: 'aplnet-m', inputSize: 224, inChannels: 3, stemWidth: 64, stemKernel: 7,
    widths: [64, 128, 256, 512], depths: [2, 2, 2, 2], block: 'basic',
    attention: { ...ATTENTION_DEFAULT, stages: [...ATTENTION_DEFAULT.stages] }, dropout: 0.3,
  },
  /** ResNet-50 scale at 224 px: bottleneck blocks 3/4/6/3, CBAM channel + spatial attention. ≈ 23.6 M parameters, ≈ 4.1 G multiply-adds. */
  'aplnet-l': {
    name: 'aplnet-l', inputSize: 224, inChannels: 3, stemWidth: 64, stemKernel: 7,
    widths: [64, 128, 256, 512], depths: [3, 4, 6, 3], block: 'bottleneck',
    attention: { ...ATTENTION_DEFAULT, stages: [...ATTENTION_DEFAULT.stages], channelReduction: 16 }, dropout: 0.3,
  },
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
