// The shared shape of aplnet's optimizers: parameter groups, a settable learning rate, and a state
// (step count + per-parameter buffers) that saves and loads so training resumes exactly.
import { zeros } from '../creation.js';
import type { Tensor } from '../tensor.js';
import { keep } from '../scope.js';

export interface ParamGroup {
  params: Tensor[];
  /** Overrides the optimizer's weight decay for this group (e.g. 0 for norms and biases). */
  weightDecay?: number;
}

export interface OptimizerState {
  step: number;
  lr: number;
  /** Buffers by name `<slot>.<groupIndex>.<paramIndex>`, e.g. `exp_avg.0.3`. */
  buffers: Map<string, Tensor>;
}

export abstract class Optimizer {
  readonly groups: ParamGroup[];
  lr: number;
  step = 0;
  protected readonly slots: Map<string, Tensor[][]> = new Map();

  constructor(params: Tensor[] | ParamGroup[], lr: number, slotNames: string[]) {
    if (!(lr > 0)) throw new Error(`optimizer: learning rate must be positive, got ${lr}`);
    this.groups = params.length > 0 && !('params' in params[0]) ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.lr = lr;
    for (const slot of slotNames) {
      this.slots.set(slot, this.groups.map((g) => g.params.map((p) => keep(zeros(p.shape, { dtype: p.dtype, device: p.device })))));
    }
  }

  /** Applies one update from the parameters' current gradients. */
  abstract stepOnce(): void;

  /** Drops every parameter's gradient (set to none, as PyTorch 2's default). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  stateDict(): OptimizerState {
    const buffers = new Map<string, Tensor>();
    for (const [slot, perGroup] of this.slots) {
      perGroup.forEach((tensors, gi) => tensors.forEach((t, pi) => buffers.set(`${slot}.${gi}.${pi}`, t)));
    }
    return { step: this.step, lr: this.lr, buffers };
  }

  /** Restores buffers (copied into place) and the step; shapes must match the parameters. */
  loadStateDict(state: OptimizerState): void {
    for (const [slot, perGroup] of this.slots) {
      perGroup.forEach((tensors, gi) =>
        tensors.forEach((t, pi) => {
          const name = `${slot}.${gi}.${pi}`;
          const saved = state.buffers.get(name);
          if (!saved) throw new Error(`optimizer state has no buffer "${name}": it was saved for a different model or optimizer`);
          if (saved.shape.join(',') !== t.shape.join(',')) {
            throw new Error(`optimizer buffer "${name}" has shape [${saved.shape}] but the parameter has [${t.shape}]`);
          }
          t.copy_(saved);
        }),
      );
    }
    this.step = state.step;
    this.lr = state.lr;
  }

  dispose(): void {
    for (const perGroup of this.slots.values()) for (const tensors of perGroup) for (const t of tensors) t.dispose();
  }
}
