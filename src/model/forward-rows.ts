// One batch through a model as the prediction core reads it, in either mode: one view, or the mean
// over the eight dihedral views of each image (test-time augmentation). The logits and the embedding
// come back as float32 rows on the CPU, from the same forward. Shared by calibration, the
// out-of-distribution statistics, the case model's training cells and its call, so every place that
// says "the 8-view embedding" computes the same thing.
import { dihedralBatch, meanOfViewRows, noGrad, tidy, type Tensor } from '../torch/index.js';
import type { AplNet } from './aplnet.js';

export interface ForwardRows {
  /** Row-major [N, classes]. */
  logits: Float32Array;
  /** Row-major [N, embeddingSize]: what the head reads. */
  embeddings: Float32Array;
  numClasses: number;
  embeddingSize: number;
}

/** x: [N, C, H, W] normalised images; the model is run as it is (the caller puts it in eval mode). */
export function forwardRows(model: AplNet, x: Tensor, { meanOfDihedralViews = false } = {}): ForwardRows {
  return tidy(() => noGrad(() => {
    const out = model.forward(meanOfDihedralViews ? dihedralBatch(x) : x);
    const rows = (t: Tensor): Float32Array => {
      const flat = t.to('float32').to('cpu').data<'float32'>();
      return meanOfDihedralViews ? meanOfViewRows(flat, t.shape[1]) : flat;
    };
    return { logits: rows(out.logits), embeddings: rows(out.embedding), numClasses: out.logits.shape[1], embeddingSize: out.embedding.shape[1] };
  }));
}
