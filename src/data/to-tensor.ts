import { fromTypedArray, type Device, type Tensor } from '../torch/index.js';
import type { Batch, DataLoader } from './data-loader.js';
import type { InferenceImage } from './inference.js';

/**
 * The one place the data layer meets the engine: everything before this works on typed arrays,
 * so it can be tested and run in workers without libtorch. The caller owns (disposes) the tensors.
 */
export interface TensorBatch {
  /** float32 [N, 3, H, W]. */
  x: Tensor;
  /** int64 [N]: the dtype cross-entropy takes for class indices. */
  y: Tensor;
  paths: string[];
}

export function batchToTensors(batch: Batch, device: Device = 'cpu'): TensorBatch {
  const x = fromTypedArray(batch.x, batch.shape, { device });
  const y = fromTypedArray(BigInt64Array.from(batch.y, (label) => BigInt(label)), [batch.y.length], { device });
  return { x, y, paths: batch.paths };
}

export function inferenceImageToTensor(image: InferenceImage, device: Device = 'cpu'): Tensor {
  return fromTypedArray(image.x, image.shape, { device });
}

/** An epoch of tensor batches on `device`; the loader keeps preparing the next batch meanwhile. */
export async function* tensorBatches(loader: DataLoader, epoch: number, device: Device = 'cpu'): AsyncGenerator<TensorBatch> {
  for await (const batch of loader.epoch(epoch)) yield batchToTensors(batch, device);
}
