import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

/** torch.optim.SGD: the same update, computed natively in one call over all parameters. */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Tensor[] | ParamGroup[], o: SgdOptions) {
    super(params, o.lr, ['momentum_buffer']);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new Error('SGD: nesterov needs momentum > 0 and dampening 0 (as in PyTorch)');
    }
  }

  stepOnce(): void {
    this.step += 1;
    const buffers = this.slots.get('momentum_buffer')!;
    this.groups.forEach((g, gi) => {
      native.sgdStep(g.params.map((p) => p.handle), buffers[gi].map((b) => b.handle), this.step, this.lr, this.momentum, this.dampening, g.weightDecay ?? this.weightDecay, this.nesterov);
    });
  }
}
