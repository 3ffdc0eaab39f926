// The layers aplnet's models are built from, with torch.nn's names, keys and default init.
import { F, ones, tidy, zeros, type Tensor } from '../torch/index.js';
import { constant_, fans, kaimingUniform_, uniform_ } from './init.js';
import { Module } from './module.js';

type Pair = number | [number, number];

/** torch.nn.Conv2d's padding_mode names; 'circular' is left out (no use for it in images of cells). */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate';

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
  /**
   * What the border is filled with (default 'zeros'). 'replicate' and 'reflect' make a constant
   * image give constant features up to the edge, so the border is not a feature of its own.
   */
  paddingMode?: PaddingMode;
}

const PADDING_MODES: readonly PaddingMode[] = ['zeros', 'reflect', 'replicate'];

export class Conv2d extends Module {
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: Pair, readonly options: Conv2dOptions = {}) {
    super();
    const groups = options.groups ?? 1;
    if (inChannels % groups || outChannels % groups) throw new Error(`Conv2d: channels ${inChannels}→${outChannels} are not divisible by groups=${groups}`);
    if (!PADDING_MODES.includes(options.paddingMode ?? 'zeros')) throw new Error(`Conv2d: paddingMode "${options.paddingMode}" is not one of ${PADDING_MODES.join(', ')}`);
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    const weight = this.registerParameter('weight', zeros([outChannels, inChannels / groups, kh, kw]));
    kaimingUniform_(weight, { a: Math.sqrt(5) });
    if (options.bias ?? true) {
      const bound = 1 / Math.sqrt(fans(weight).fanIn);
      uniform_(this.registerParameter('bias', zeros([outChannels])), -bound, bound);
    }
  }
  get weight(): Tensor { return this.param('weight'); }
  forward(x: Tensor): Tensor {
    const bias = this.hasParam('bias') ? this.param('bias') : null;
    const mode = this.options.paddingMode ?? 'zeros';
    const [ph, pw] = typeof this.options.padding === 'number' ? [this.options.padding, this.options.padding] : this.options.padding ?? [0, 0];
    if (mode === 'zeros' || (ph === 0 && pw === 0)) return F.conv2d(x, this.param('weight'), bias, this.options);
    // As torch.nn.Conv2d does for a non-zero padding_mode: pad explicitly, then convolve unpadded.
    return tidy(() => F.conv2d(F.pad2d(x, [pw, pw, ph, ph], mode), this.param('weight'), bias, { ...this.options, padding: 0 }));
  }
}

export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, { bias = true } = {}) {
    super();
    const weight = this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    kaimingUniform_(weight, { a: Math.sqrt(5) });
    if (bias) {
      const bound = 1 / Math.sqrt(inFeatures);
      uniform_(this.registerParameter('bias', zeros([outFeatures])), -bound, bound);
    }
  }
  get weight(): Tensor { return this.param('weight'); }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.param('weight'), this.hasParam('bias') ? this.param('bias') : null);
  }
}

export class BatchNorm2d extends Module {
  constructor(readonly numFeatures: number, readonly options: { eps?: number; momentum?: number } = {}) {
    super();
    this.registerParameter('weight', ones([numFeatures]));
    this.registerParameter('bias', zeros([numFeatures]));
    this.registerBuffer('running_mean', zeros([numFeatures]));
    this.registerBuffer('running_var', ones([numFeatures]));
    this.registerBuffer('num_batches_tracked', zeros([], { dtype: 'int64' }));
  }
  get weight(): Tensor { return this.param('weight'); }
  get bias(): Tensor { return this.param('bias'); }
  forward(x: Tensor): Tensor {
    if (this.training) {
      const counter = this.buffer('num_batches_tracked');
      const next = counter.add(1);
      counter.copy_(next);
      next.dispose();
    }
    return F.batchNorm(x, this.buffer('running_mean'), this.buffer('running_var'), {
      weight: this.param('weight'),
      bias: this.param('bias'),
      training: this.training,
      momentum: this.options.momentum ?? 0.1,
      eps: this.options.eps ?? 1e-5,
    });
  }
  /** Zero-inits gamma (used on the last BN of a residual branch so blocks start as identity). */
  zeroInitWeight(): void {
    constant_(this.param('weight'), 0);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor { return x.relu(); }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    return this.training && this.p > 0 ? F.dropout(x, this.p, true) : x;
  }
}

/** Runs its modules in order; their state dict keys are "0.", "1.", … as in nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let out = x;
    for (const layer of this.layers) out = layer.forward(out) as Tensor;
    return out;
  }
}
