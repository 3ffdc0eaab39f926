// 'attention-pool': the map an attention-pooling head weighs its per-position class evidence with
// (model/attention-pool.ts). It is read from a plain forward — no gradient, no approximation — and
// it is the same for every class, because the logits of every class are summed with it.
//
// Scale: upsampled (bilinear) to the input size, then divided by its maximum per image. 1 is the
// position the head weighs most; 0 stays 0 (no min-max stretch, so rounding noise on a blank image
// is not blown up into a pattern); the ratio of two values is the ratio of their weights in every
// logit, and any share of the map's mass is the share of the pooling weight. A uniform map is all 1.
//
// A model with the 'average-pool' head has no such map: asking for one is an error (explain's
// measures then list the method as not applicable), never a uniform map that would look like one.
// Where an image's logits are not finite its map is NaN, so predictAndExplain blanks and flags it
// like every other method's.
import { F, tidy, type Tensor } from '../torch/index.js';
import type { CapturedPass } from './capture.js';

/** The map of a captured pass, [N, 1, height, width] in [0, 1]; the caller disposes it. */
export function attentionPoolMaps(pass: Pick<CapturedPass, 'logits' | 'pooling'>, size: [number, number]): Tensor {
  return tidy(() => {
    const n = pass.logits.shape[0];
    // logits·0 + 1 is 1 where the row is finite and NaN where it is not: no map for a non-finite call.
    const finite = pass.logits.sum(1).mul(0).add(1).reshape([n, 1, 1, 1]);
    if (!pass.pooling) throw new Error("this model has no attention-pooling head, so it has no 'attention-pool' map; train an attention-pool preset (e.g. aplnet-s-ap) or ask for attention-grad or gradcam");
    const upsampled = F.interpolateBilinear(pass.pooling.mul(finite), size);
    return upsampled.div(upsampled.amax([1, 2, 3], true));
  });
}
