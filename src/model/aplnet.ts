// The classifier: a ResNet (stem, stages of residual blocks, global average pooling, dropout,
// linear head) with CBAM-style spatial attention after chosen stages or inside every block.
// Module names follow PyTorch's state_dict conventions and test/reference/aplnet_reference.py.
import { BatchNorm2d, Dropout, Linear, Module, ReLU, Sequential, type Conv2d } from '../nn/index.js';
import { F, tidy, type Tensor } from '../torch/index.js';
import { BasicBlock } from './basic-block.js';
import { BottleneckBlock } from './bottleneck-block.js';
import { chainCosts, conv2dCost, linearMacs, outputSide, type FeatureShape } from './complexity.js';
import type { ModelConfig } from './config.js';
import { MaxPool2d } from './max-pool.js';
import { ModuleList } from './module-list.js';
import { convNoBias, type ResidualBlock } from './residual-block.js';
import { SpatialAttention, type SpatialAttentionOptions } from './spatial-attention.js';

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
}

export class AplNet extends Module {
  readonly stem: Sequential;
  readonly stages: ModuleList<ModuleList<ResidualBlock>>;
  /** Attention after stages, in the order of config.attention.stages; null when placed in blocks or absent. */
  readonly attention: ModuleList<SpatialAttention> | null;
  readonly dropout: Dropout;
  readonly head: Linear;
  private readonly attentionAfterStage = new Map<number, SpatialAttention>();

  constructor(readonly config: ModelConfig) {
    super();
    const { stemWidth, stemKernel, inChannels, widths, depths, attention } = config;
    this.stem = this.registerModule('stem', new Sequential(convNoBias(inChannels, stemWidth, stemKernel, 2), new BatchNorm2d(stemWidth), new ReLU(), new MaxPool2d(3, 2, 1)));
    const attentionOptions: SpatialAttentionOptions = { kernelSize: attention.kernelSize, channelReduction: attention.channelReduction };
    const inBlocks = attention.placement === 'every-block' ? attentionOptions : null;
    let channels = stemWidth;
    const stages = widths.map((width, s) => {
      const blocks: ResidualBlock[] = [];
      for (let b = 0; b < depths[s]; b++) {
        const stride = b === 0 && s > 0 ? 2 : 1;
        const block = config.block === 'basic' ? new BasicBlock(channels, width, stride, inBlocks) : new BottleneckBlock(channels, width, stride, inBlocks);
        channels = block.outChannels;
        blocks.push(block);
      }
      return new ModuleList(blocks);
    });
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
    this.head = this.registerModule('head', new Linear(channels, config.numClasses));
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
      const pooled = F.adaptiveAvgPool2d(features, 1).flatten(1);
      const logits = this.head.forward(this.dropout.forward(pooled));
      return { logits, attention, activations };
    });
  }

  /** Multiply-adds for one image of side `inputSize` (default: the configured size). */
  macsPerImage(inputSize = this.config.inputSize): number {
    const start: FeatureShape = [this.config.inChannels, inputSize, inputSize];
    const stemConv = this.stem.layers[0] as Conv2d;
    const steps = [
      (s: FeatureShape) => conv2dCost(stemConv, s),
      ([c, h, w]: FeatureShape) => ({ macs: 0, shape: [c, outputSide(h, 3, 2, 1), outputSide(w, 3, 2, 1)] as FeatureShape }),
    ];
    this.stages.items.forEach((stage, s) => {
      for (const block of stage.items) steps.push((shape) => block.cost(shape));
      const gate = this.attentionAfterStage.get(s);
      if (gate) steps.push((shape) => gate.cost(shape));
    });
    return chainCosts(start, steps).macs + linearMacs(this.head);
  }

  /** Side of each attention map for a square input, in forward's order (without running the network). */
  attentionSides(inputSize = this.config.inputSize): number[] {
    let side = outputSide(outputSide(inputSize, this.config.stemKernel, 2, Math.floor(this.config.stemKernel / 2)), 3, 2, 1);
    const sides: number[] = [];
    this.stages.items.forEach((stage, s) => {
      for (const block of stage.items) {
        if (s > 0 && block === stage.items[0]) side = outputSide(side, 3, 2, 1);
        if (block.attention) sides.push(side);
      }
      if (this.attentionAfterStage.has(s)) sides.push(side);
    });
    return sides;
  }
}
