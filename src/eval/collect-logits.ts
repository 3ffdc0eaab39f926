// Runs a model over every batch of a loader without gradients, collecting logits for metrics.
import type { DataLoader } from '../data/index.js';
import { batchToTensors } from '../data/to-tensor.js';
import { noGrad, tidy } from '../torch/index.js';
import type { AplNet } from '../model/index.js';

export interface CollectedLogits {
  /** Row-major [N, C]. */
  logits: Float32Array;
  labels: Int32Array;
  paths: string[];
  numClasses: number;
}

export async function collectLogits(model: AplNet, loader: DataLoader, device: string, epoch = 0): Promise<CollectedLogits> {
  const wasTraining = model.training;
  model.eval();
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  const paths: string[] = [];
  try {
    for await (const batch of loader.epoch(epoch)) {
      const logits = tidy(() => noGrad(() => {
        const { x } = batchToTensors(batch, device);
        return model.forward(x).logits.to('float32').data<'float32'>();
      }));
      chunks.push(logits);
      labels.push(...batch.y);
      paths.push(...batch.paths);
    }
  } finally {
    model.train(wasTraining);
  }
  const numClasses = model.config.numClasses;
  const flat = new Float32Array(labels.length * numClasses);
  let offset = 0;
  for (const c of chunks) {
    flat.set(c, offset);
    offset += c.length;
  }
  return { logits: flat, labels: Int32Array.from(labels), paths, numClasses };
}
