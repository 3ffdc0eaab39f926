import { native } from '../native.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamGroup } from './optimizer.js';

export interface AdamWOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

/** torch.optim.AdamW (decoupled weight decay), same defaults and arithmetic as PyTorch. */
export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;

  constructor(params: Tensor[] | ParamGroup[], o: AdamWOptions) {
    super(params, o.lr, ['exp_avg', 'exp_avg_sq']);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 1e-2;
  }

  stepOnce(): void {
    this.step += 1;
    const expAvg = this.slots.get('exp_avg')!;
    const expAvgSq = this.slots.get('exp_avg_sq')!;
    this.groups.forEach((g, gi) => {
      native.adamwStep(g.params.map((p) => p.handle), expAvg[gi].map((t) => t.handle), expAvgSq[gi].map((t) => t.handle), this.step, this.lr, this.betas[0], this.betas[1], this.eps, g.weightDecay ?? this.weightDecay);
    });
  }
}
