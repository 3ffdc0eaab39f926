// The classifier: a ResNet (stem, stages of residual blocks, global average pooling, dropout,
// linear head) with CBAM-style spatial attention after chosen stages or inside every block; or, with
// head 'attention-pool', the last stages dilated to the output stride and pooled by an attention map
// whose weighted sum of per-position evidence is the logits (attention-pool.ts).
// Module names follow PyTorch's state_dict conventions and test/reference/aplnet_reference.py.
import { BatchNorm2d, Conv2d, Dropout, Linear, Module, ReLU, Sequential } from '../nn/index.js';
import { F, tidy, type Tensor } from '../torch/index.js';
import { AttentionPool, attentionPooledLogits, type AttentionPooling } from './attention-pool.js';
import { BasicBlock } from './basic-block.js';
import { BottleneckBlock } from './bottleneck-block.js';
import { chainCosts, conv2dCost, linearMacs, outputSide, type Cost, type FeatureShape } from './complexity.js';
import type { ModelConfig } from './config.js';
import { MaxPool2d } from './max-pool.js';
import { ModuleList } from './module-list.js';
import { convNoBias, type ResidualBlock } from './residual-block.js';
import { SpatialAttention, type SpatialAttentionOptions } from './spatial-attention.js';
import { blockLayouts } from './stage-plan.js';
import { dropPathRates } from './drop-path.js';

export interface ForwardOptions {
  /**
   * Feature maps to return, by name: 'stem', 'stage0', 'stage1', … (a stage's output after its
   * attention module, if any). When autograd is on they retain their gradient after backward(),
   * which is what Grad-CAM reads.
   */
  keepActivations?: string[];
}

export interface ForwardResult {
  logits: Tensor;
  /** Every attention map, [N, 1, h, w] at its native resolution, in network order. */
  attention: Tensor[];
  /** The activations asked for with keepActivations. */
  activations: Record<string, Tensor>;
  /** The attention-pooling head's map and per-position evidence; null for an 'average-pool' head. */
  pooling: AttentionPooling | null;
  /**
   * [N, D] the image's embedding, what the head reads: the last feature map pooled with the head's
   * own weights (the attention map, or a uniform mean), before dropout. Case models and the
   * out-of-distribution score work on it.
   */
  embedding: Tensor;
}

export class AplNet extends Module {
  readonly stem: Sequential;
  readonly stages: ModuleList<ModuleList<ResidualBlock>>;
  /** Attention after stages, in the order of config.attention.stages; null when placed in blocks or absent. */
  readonly attention: ModuleList<SpatialAttention> | null;
  readonly dropout: Dropout;
  /** 'attention-pool' only: the map the head pools with. */
  readonly pool: AttentionPool | null;
  /** The classifier: Linear after average pooling; for 'attention-pool' the same map applied at every position (a 1×1 conv). */
  readonly head: Linear | Conv2d;
  private readonly attentionAfterStage = new Map<number, SpatialAttention>();

  constructor(readonly config: ModelConfig) {
    super();
    const { stemWidth, stemKernel, inChannels, widths, depths, attention, paddingMode } = config;
    // Max pooling pads with -inf, i.e. only real pixels compete: it needs no padding mode.
    this.stem = this.registerModule('stem', new Sequential(convNoBias(inChannels, stemWidth, stemKernel, { stride: 2, paddingMode }), new BatchNorm2d(stemWidth), new ReLU(), new MaxPool2d(3, 2, 1)));
    const attentionOptions: SpatialAttentionOptions = { kernelSize: attention.kernelSize, channelReduction: attention.channelReduction, paddingMode };
    const inBlocks = attention.placement === 'every-block' ? attentionOptions : null;
    let channels = stemWidth;
    const layouts = blockLayouts(depths, config.outputStride, paddingMode);
    const dropRates = dropPathRates(layouts.flat().length, config.dropPath ?? 0);
    let blockIndex = 0;
    const stages = widths.map((width, s) => new ModuleList(layouts[s].map((plain) => {
      const layout = { ...plain, dropPath: dropRates[blockIndex++] };
      const block = config.block === 'basic' ? new BasicBlock(channels, width, layout, inBlocks) : new BottleneckBlock(channels, width, layout, inBlocks);
      channels = block.outChannels;
      return block as ResidualBlock;
    })));
    this.stages = this.registerModule('stages', new ModuleList(stages));
    if (attention.placement === 'after-stages' && attention.stages.length > 0) {
      const modules = attention.stages.map((s) => {
        const module = new SpatialAttention(stages[s].items[stages[s].items.length - 1].outChannels, attentionOptions);
        this.attentionAfterStage.set(s, module);
        return module;
      });
      this.attention = this.registerModule('attention', new ModuleList(modules));
    } else {
      this.attention = null;
    }
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout));
    const pooled = config.head === 'attention-pool';
    this.pool = pooled ? this.registerModule('pool', new AttentionPool(channels)) : null;
    this.head = this.registerModule('head', pooled ? new Conv2d(channels, config.numClasses, 1) : new Linear(channels, config.numClasses));
  }

  /** Names accepted by keepActivations, shallow to deep. */
  activationNames(): string[] {
    return ['stem', ...this.stages.items.map((_, s) => `stage${s}`)];
  }

  forward(x: Tensor, { keepActivations = [] }: ForwardOptions = {}): ForwardResult {
    const shape = x.shape;
    if (shape.length !== 4 || shape[1] !== this.config.inChannels) {
      throw new Error(`AplNet.forward: expected images [N, ${this.config.inChannels}, H, W], got [${shape}]`);
    }
    const unknown = keepActivations.filter((name) => !this.activationNames().includes(name));
    if (unknown.length) throw new Error(`AplNet.forward: unknown activation(s) ${unknown.join(', ')}; choose from ${this.activationNames().join(', ')}`);
    return tidy(() => {
      const attention: Tensor[] = [];
      const activations: Record<string, Tensor> = {};
      const keep = (name: string, t: Tensor): void => {
        if (!keepActivations.includes(name)) return;
        if (t.requiresGrad) t.retainGrad();
        activations[name] = t;
      };
      let features = this.stem.forward(x);
      keep('stem', features);
      this.stages.items.forEach((stage, s) => {
        for (const block of stage.items) {
          const { out, map } = block.forward(features);
          features = out;
          if (map) attention.push(map);
        }
        const gate = this.attentionAfterStage.get(s);
        if (gate) {
          const { out, map } = gate.forward(features);
          features = out;
          attention.push(map);
        }
        keep(`stage${s}`, features);
      });
      if (this.pool) {
        // Dropout reaches the evidence only, so logits = Σ attention · evidence holds in both modes.
        const pooling = { attention: this.pool.forward(features), evidence: this.head.forward(this.dropout.forward(features)) };
        const embedding = features.mul(pooling.attention).sum([2, 3]);
        return { logits: attentionPooledLogits(pooling), attention, activations, pooling, embedding };
      }
      const pooled = F.adaptiveAvgPool2d(features, 1).flatten(1);
      const logits = this.head.forward(this.dropout.forward(pooled));
      return { logits, attention, activations, pooling: null, embedding: pooled };
    });
  }

  /** The body's cost up to the last feature map; `onMap` sees the side of every attention map, in forward's order. */
  private bodyCost(inputSize: number, onMap: (side: number) => void = () => {}): Cost {
    const start: FeatureShape = [this.config.inChannels, inputSize, inputSize];
    const stemConv = this.stem.layers[0] as Conv2d;
    const steps = [
      (s: FeatureShape) => conv2dCost(stemConv, s),
      ([c, h, w]: FeatureShape) => ({ macs: 0, shape: [c, outputSide(h, 3, 2, 1), outputSide(w, 3, 2, 1)] as FeatureShape }),
    ];
    const noting = (cost: Cost, hasMap: boolean): Cost => {
      if (hasMap) onMap(cost.shape[1]);
      return cost;
    };
    this.stages.items.forEach((stage, s) => {
      for (const block of stage.items) steps.push((shape) => noting(block.cost(shape), block.attention !== null));
      const gate = this.attentionAfterStage.get(s);
      if (gate) steps.push((shape) => noting(gate.cost(shape), true));
    });
    return chainCosts(start, steps);
  }

  /** Multiply-adds for one image of side `inputSize` (default: the configured size). */
  macsPerImage(inputSize = this.config.inputSize): number {
    const body = this.bodyCost(inputSize);
    if (this.head instanceof Linear) return body.macs + linearMacs(this.head);
    return body.macs + this.pool!.cost(body.shape).macs + conv2dCost(this.head, body.shape).macs;
  }

  /** Side of each attention map of forward().attention for a square input, in forward's order (without running the network). */
  attentionSides(inputSize = this.config.inputSize): number[] {
    const sides: number[] = [];
    this.bodyCost(inputSize, (side) => sides.push(side));
    return sides;
  }

  /** Side of forward().pooling's map for a square input; null for an 'average-pool' head. */
  poolingSide(inputSize = this.config.inputSize): number | null {
    return this.pool ? this.bodyCost(inputSize).shape[1] : null;
  }
}
