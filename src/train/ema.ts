// An exponential moving average of the weights (Polyak averaging, as timm's ModelEma): a second
// copy of the network whose parameters trail the trained ones, which is what is validated,
// calibrated and saved when the recipe turns it on. Averaged weights sit in a flatter region of the
// loss, which tends to generalise better than the last noisy step.
import type { Module } from '../nn/index.js';
import { noGrad, tidy, type Tensor } from '../torch/index.js';

/**
 * The decay used at optimizer step `step` (0-based): min(decay, (1 + step) / (10 + step)), timm's
 * warm-up, so the first steps are not averaged with the random initialisation for hundreds of steps.
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

export class WeightEma {
  private readonly pairs: { live: Tensor; average: Tensor; floating: boolean }[];

  /**
   * `average` must be a network of the same architecture; it is overwritten with `live`'s state and
   * kept in eval mode. Parameters and floating-point buffers (BatchNorm's running mean and variance)
   * are averaged alike; integer buffers (BatchNorm's batch counter) are copied.
   */
  constructor(readonly live: Module, readonly average: Module, readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new Error(`WeightEma: decay must be in (0, 1), got ${decay}`);
    const averaged = new Map([...average.namedParameters(), ...average.namedBuffers()]);
    const liveState = [...live.namedParameters(), ...live.namedBuffers()];
    if (averaged.size !== liveState.length) throw new Error(`WeightEma: the averaged network has ${averaged.size} tensors, the trained one ${liveState.length}`);
    this.pairs = liveState.map(([name, t]) => {
      const target = averaged.get(name);
      if (!target || target.shape.join() !== t.shape.join()) throw new Error(`WeightEma: the averaged network has no tensor "${name}" of shape [${t.shape}]`);
      return { live: t, average: target, floating: t.dtype === 'float32' || t.dtype === 'float64' };
    });
    this.copyFromLive();
    average.eval();
  }

  /** Starts the average at the live weights (also after loading a checkpoint without one). */
  copyFromLive(): void {
    noGrad(() => {
      for (const { live, average } of this.pairs) average.copy_(live);
    });
  }

  /** After optimizer step `step`: average ← d·average + (1 − d)·live. */
  update(step: number): void {
    const d = emaDecayAt(this.decay, step);
    noGrad(() => tidy(() => {
      for (const { live, average, floating } of this.pairs) {
        if (floating) average.copy_(average.mul(d).add(live.detach().mul(1 - d)));
        else average.copy_(live);
      }
    }));
  }
}
