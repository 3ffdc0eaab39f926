// aplnet's model layer: ResNet + spatial attention, its configs and presets.
export { AplNet, type ForwardOptions, type ForwardResult } from './aplnet.js';
export { forwardRows, type ForwardRows } from './forward-rows.js';
export { parseModelConfig, HEAD_KINDS, type ModelConfig, type AttentionConfig, type BlockKind, type HeadKind } from './config.js';
export { AttentionPool, attentionPooledLogits, type AttentionPooling } from './attention-pool.js';
export { PRESETS, presetNames, presetConfig, type PresetConfig } from './presets.js';
export { createModel, describeModel, describePreset, type ModelSummary } from './create-model.js';
export { SpatialAttention, type AttentionOutput, type SpatialAttentionOptions } from './spatial-attention.js';
export { ChannelAttention } from './channel-attention.js';
export { BasicBlock } from './basic-block.js';
export { BottleneckBlock, BOTTLENECK_EXPANSION } from './bottleneck-block.js';
export type { ResidualBlock, BlockOutput } from './residual-block.js';
export { GatedAttentionMil, CASE_MIL_DEFAULTS, checkCaseMilConfig, type CaseMilConfig, type CaseMilOutput, type CaseMilPooling } from './mil-gated-attention.js';
export { CaseModel, caseSoftmax, combineHeads, ensembleLogits, type CasePrediction, type CaseEncoder, type CaseModelParts } from './mil-case-model.js';
