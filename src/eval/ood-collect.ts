// One pass over a split for the out-of-distribution statistics: each image's logits, embedding
// (what the head reads) and image statistics, from the same forward pass. With test-time
// augmentation the logits and embedding are the mean over the eight dihedral views, as the
// prediction core gives them in that mode (the statistics do not change under a flip or turn).
import type { DataLoader } from '../data/index.js';
import { batchToTensors } from '../data/to-tensor.js';
import { forwardRows, type AplNet } from '../model/index.js';
import { tidy } from '../torch/index.js';
import { imageStatistics } from './ood-image-stats.js';

export interface OodInputs {
  /** Row-major [N, C]. */
  logits: Float32Array;
  numClasses: number;
  /** Row-major [N, D]. */
  embeddings: Float32Array;
  embeddingSize: number;
  /** Row-major [N, IMAGE_STATISTICS.length]. */
  imageStats: Float64Array;
  labels: Int32Array;
  paths: string[];
}

export async function collectOodInputs(model: AplNet, loader: DataLoader, device: string, { meanOfDihedralViews = false } = {}): Promise<OodInputs> {
  const wasTraining = model.training;
  model.eval();
  const logitChunks: Float32Array[] = [];
  const embeddingChunks: Float32Array[] = [];
  const stats: number[] = [];
  const labels: number[] = [];
  const paths: string[] = [];
  let embeddingSize = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      const { logits, embeddings, embeddingSize: size } = tidy(() => forwardRows(model, batchToTensors(batch, device).x, { meanOfDihedralViews }));
      embeddingSize = size;
      logitChunks.push(logits);
      embeddingChunks.push(embeddings);
      const [n, , side] = batch.shape;
      for (let i = 0; i < n; i++) stats.push(...imageStatistics(batch.x, i * 3 * side * side, side, loader.subset.stats));
      labels.push(...batch.y);
      paths.push(...batch.paths);
    }
  } finally {
    model.train(wasTraining);
  }
  return {
    logits: concat(logitChunks),
    numClasses: model.config.numClasses,
    embeddings: concat(embeddingChunks),
    embeddingSize,
    imageStats: Float64Array.from(stats),
    labels: Int32Array.from(labels),
    paths,
  };
}

function concat(chunks: Float32Array[]): Float32Array {
  const out = new Float32Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
