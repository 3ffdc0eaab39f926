// 'evidence': where an attention-pooling head found the evidence for the class it explains. The
// head computes every logit as a sum over positions, logit_k = Σ_x a(x)·E_k(x) (model/attention-
// pool.ts), so the explained class's margin over the mean logit splits EXACTLY into one term per
// position:
//     logit_c − mean_k logit_k = Σ_x a(x)·(E_c(x) − mean_k E_k(x)).
// The map is each position's term, kept where it is positive (where the position argues for the
// class rather than against it). It is read from the same plain forward as the call — no gradient,
// no approximation — and, unlike the attention map alone, it differs by class: a position the head
// weighs but whose local evidence is neutral (a background patch that looks like every class) adds
// nothing to the margin and draws nothing.
//
// Scale: upsampled (bilinear) to the input size, then divided by its maximum per image: 1 is the
// position that adds most to the margin, 0 adds nothing or argues against. A map whose every term is
// ≤ 0 (asked for a class the image argues against everywhere) is all 0, never a stretched pattern.
// Where an image's logits are not finite its map is NaN, so the caller blanks and flags it.
import { F, tensor, tidy, type Tensor } from '../torch/index.js';
import type { CapturedPass } from './capture.js';

/** The map of a captured pass for `targets` (one class per image), [N, 1, height, width] in [0, 1]; the caller disposes it. */
export function evidenceMaps(pass: Pick<CapturedPass, 'logits' | 'pooling' | 'poolingEvidence'>, targets: readonly number[], size: [number, number]): Tensor {
  return tidy(() => {
    const n = pass.logits.shape[0];
    if (!pass.pooling || !pass.poolingEvidence) throw new Error("this model has no attention-pooling head, so it has no 'evidence' map; train an attention-pool preset (e.g. aplnet-s-ap) or ask for attention-grad or gradcam");
    if (targets.length !== n) throw new Error(`evidence: ${targets.length} targets for ${n} images`);
    const [, , h, w] = pass.poolingEvidence.shape;
    const index = tensor(Array.from(targets), { dtype: 'int64', device: pass.poolingEvidence.device }).reshape([n, 1, 1, 1]).expand([n, 1, h, w]);
    const ofClass = pass.poolingEvidence.gather(1, index);
    const margin = ofClass.sub(pass.poolingEvidence.mean([1], true));
    // logits·0 + 1 is 1 where the row is finite and NaN where it is not: no map for a non-finite call.
    const finite = pass.logits.sum(1).mul(0).add(1).reshape([n, 1, 1, 1]);
    const terms = margin.mul(pass.pooling).relu().mul(finite);
    const upsampled = F.interpolateBilinear(terms, size);
    return upsampled.div(upsampled.amax([1, 2, 3], true).clamp(1e-30));
  });
}
