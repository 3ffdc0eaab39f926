// Stochastic depth (Huang et al. 2016, as timm's drop_path): in training, each sample's residual
// branch is dropped with probability p and kept ones are scaled by 1/(1 − p), so the expected output
// is unchanged; in evaluation the branch passes as is. A deeper block gets a higher rate.
import { rand, tidy, type Tensor } from '../torch/index.js';

export function dropPath(branch: Tensor, p: number, training: boolean): Tensor {
  if (!training || p <= 0) return branch;
  if (!(p < 1)) throw new Error(`dropPath: p must be in [0, 1), got ${p}`);
  return tidy(() => {
    const [n, ...rest] = branch.shape;
    // One draw per sample, broadcast over channels and positions.
    const keep = rand([n, ...rest.map(() => 1)], { device: branch.device }).ge(p).to(branch.dtype);
    return branch.mul(keep).div(1 - p);
  });
}

/** Rates rising linearly from 0 at the first block to `maxRate` at the last (timm's linspace). */
export function dropPathRates(blocks: number, maxRate: number): number[] {
  if (blocks <= 1) return Array.from({ length: blocks }, () => maxRate);
  return Array.from({ length: blocks }, (_, i) => (maxRate * i) / (blocks - 1));
}
