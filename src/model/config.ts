// A model described as plain JSON: the run folder stores it as config.json, and the CLI and the
// Python reference rebuild the exact same network from it (plus model.safetensors).
import type { PaddingMode } from '../nn/index.js';

/** 'basic': two 3×3 convs (ResNet-18/34); 'bottleneck': 1×1 → 3×3 → 1×1 with 4× expansion (ResNet-50). */
export type BlockKind = 'basic' | 'bottleneck';

export interface AttentionConfig {
  /**
   * 'after-stages': one attention module after each stage listed in `stages` (keys attention.<i>.*);
   * 'every-block': one inside every residual block, before the residual sum (keys stages.<s>.<b>.attention.*).
   */
  placement: 'after-stages' | 'every-block';
  /** 0-based stage indices followed by an attention module (placement 'after-stages'). */
  stages: number[];
  /** Side of the square convolution over the [max, mean] channel pools; odd, padding k//2 keeps the map's size. */
  kernelSize: number;
  /** Reduction ratio of CBAM's channel-attention MLP applied before the spatial map; 0 turns it off. */
  channelReduction: number;
}

/**
 * How the last feature map becomes class scores. 'average-pool': global average pooling, then a
 * linear layer (torchvision's ResNet; the CBAM presets). 'attention-pool': a softmax map over the
 * positions weights per-position class evidence (attention-pool.ts), so the map is what the logits sum.
 */
export type HeadKind = 'average-pool' | 'attention-pool';
export const HEAD_KINDS: readonly HeadKind[] = ['average-pool', 'attention-pool'];
const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate'];

/** Stride of the stem (stride-2 conv, then stride-2 max pool), before any stage. */
export const STEM_STRIDE = 4;
/** The total stride after the last stage when every later stage halves the resolution. */
export function naturalOutputStride(stages: number): number {
  return STEM_STRIDE * 2 ** (stages - 1);
}

export interface ModelConfig {
  /** Preset name it came from, or 'custom'. Informational only: the fields below define the network. */
  name: string;
  /** Training and default prediction side in pixels (square). */
  inputSize: number;
  inChannels: number;
  /** Output channels of the stride-2 stem convolution (followed by BN, ReLU, 3×3 stride-2 max pool). */
  stemWidth: number;
  stemKernel: number;
  /** Channels of each stage (for bottleneck blocks: the inner width; stage output is 4× that). */
  widths: number[];
  /** Residual blocks per stage. Stage 0 keeps the resolution, every later stage halves it. */
  depths: number[];
  block: BlockKind;
  attention: AttentionConfig;
  /** Dropout probability before the linear head (for 'attention-pool', on the features of each position). */
  dropout: number;
  numClasses: number;
  /**
   * Border fill of every padded convolution: 'zeros' (torchvision's; the CBAM presets) or
   * 'replicate' / 'reflect', with which a constant image gives constant features up to the edge.
   * Absent in config.json written before it existed: 'zeros'.
   */
  paddingMode: PaddingMode;
  /**
   * The largest stride the features may reach (DeepLab's output stride): a stage that would go
   * beyond it keeps the resolution and dilates its convolutions instead. A power of two ≥ 4; at or
   * above naturalOutputStride(stages) (32 with four stages) nothing dilates. Absent: 32.
   */
  outputStride: number;
  /** Absent in config.json written before it existed: 'average-pool'. */
  head: HeadKind;
  /**
   * Stochastic depth in training: the last residual block's branch is dropped with this probability,
   * earlier blocks' linearly less, the first never (drop-path.ts); no effect in evaluation. Absent
   * (config.json written before it existed, or never set): 0.
   */
  dropPath?: number;
}

function fail(source: string, field: string, value: unknown, expected: string): never {
  throw new Error(`${source}: model config field "${field}" is ${JSON.stringify(value)}, expected ${expected}`);
}
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isOddPositive = (v: unknown): v is number => isPositiveInt(v) && (v as number) % 2 === 1;

/** Checks a parsed config.json (or any object) and returns it typed; `source` names it in errors. */
export function parseModelConfig(value: unknown, source = 'model config'): ModelConfig {
  if (value === null || typeof value !== 'object') fail(source, '(root)', value, 'an object');
  const c = value as Record<string, any>;
  if (typeof c.name !== 'string') fail(source, 'name', c.name, 'a string');
  for (const field of ['inputSize', 'inChannels', 'stemWidth', 'numClasses'] as const) {
    if (!isPositiveInt(c[field])) fail(source, field, c[field], 'a positive integer');
  }
  if (!isOddPositive(c.stemKernel)) fail(source, 'stemKernel', c.stemKernel, 'an odd positive integer');
  if (!Array.isArray(c.widths) || c.widths.length === 0 || !c.widths.every(isPositiveInt)) fail(source, 'widths', c.widths, 'a non-empty array of positive integers');
  if (!Array.isArray(c.depths) || c.depths.length !== c.widths.length || !c.depths.every(isPositiveInt)) {
    fail(source, 'depths', c.depths, `an array of ${c.widths.length} positive integers (one per stage)`);
  }
  if (c.block !== 'basic' && c.block !== 'bottleneck') fail(source, 'block', c.block, '"basic" or "bottleneck"');
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) fail(source, 'dropout', c.dropout, 'a number in [0, 1)');
  const a = c.attention as Record<string, any> | undefined;
  if (!a || typeof a !== 'object') fail(source, 'attention', a, 'an object');
  if (a.placement !== 'after-stages' && a.placement !== 'every-block') fail(source, 'attention.placement', a.placement, '"after-stages" or "every-block"');
  const stageCount = c.widths.length;
  const validStage = (s: unknown): boolean => Number.isInteger(s) && (s as number) >= 0 && (s as number) < stageCount;
  if (!Array.isArray(a.stages) || !a.stages.every(validStage) || new Set(a.stages).size !== a.stages.length) {
    fail(source, 'attention.stages', a.stages, `distinct stage indices in 0..${stageCount - 1}`);
  }
  if (!isOddPositive(a.kernelSize)) fail(source, 'attention.kernelSize', a.kernelSize, 'an odd positive integer');
  if (!(Number.isInteger(a.channelReduction) && a.channelReduction >= 0)) fail(source, 'attention.channelReduction', a.channelReduction, 'a non-negative integer (0 = no channel attention)');
  const paddingMode = c.paddingMode ?? 'zeros';
  if (!PADDING_MODES.includes(paddingMode)) fail(source, 'paddingMode', c.paddingMode, `one of ${PADDING_MODES.map((m) => `"${m}"`).join(', ')}`);
  const outputStride = c.outputStride ?? 32;
  const isPowerOfTwo = Number.isInteger(Math.log2(outputStride));
  if (!(isPositiveInt(outputStride) && outputStride >= STEM_STRIDE && isPowerOfTwo)) {
    fail(source, 'outputStride', c.outputStride, `a power of two ≥ ${STEM_STRIDE} (${naturalOutputStride(stageCount)} or more: no dilation)`);
  }
  const head = c.head ?? 'average-pool';
  if (!HEAD_KINDS.includes(head)) fail(source, 'head', c.head, `one of ${HEAD_KINDS.map((k) => `"${k}"`).join(', ')}`);
  if (c.dropPath !== undefined && !(typeof c.dropPath === 'number' && c.dropPath >= 0 && c.dropPath < 1)) fail(source, 'dropPath', c.dropPath, 'a number in [0, 1)');
  return {
    name: c.name, inputSize: c.inputSize, inChannels: c.inChannels, stemWidth: c.stemWidth, stemKernel: c.stemKernel,
    widths: [...c.widths], depths: [...c.depths], block: c.block, dropout: c.dropout, numClasses: c.numClasses,
    attention: { placement: a.placement, stages: [...a.stages].sort((x: number, y: number) => x - y), kernelSize: a.kernelSize, channelReduction: a.channelReduction },
    paddingMode, outputStride, head,
    ...(c.dropPath ? { dropPath: c.dropPath } : {}),
  };
}
