// Which class each image is explained for.
import { tidy, type Tensor } from '../torch/index.js';

/** 'predicted' (the arg-max of the logits), one class index for every image, or one index per image. */
export type ExplainTarget = 'predicted' | number | number[];

export function resolveTargets(logits: Tensor, target: ExplainTarget): number[] {
  const [n, classes] = logits.shape;
  const check = (c: number): number => {
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new Error(`explain: target class ${c} is not a class index of this model (0..${classes - 1})`);
    return c;
  };
  if (target === 'predicted') return tidy(() => logits.argmax(1).toArray());
  if (typeof target === 'number') return new Array<number>(n).fill(check(target));
  if (target.length !== n) throw new Error(`explain: ${target.length} targets given for ${n} images`);
  return target.map(check);
}
