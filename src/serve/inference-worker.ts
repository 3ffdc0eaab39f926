// The inference worker: loads the run once in its own thread and answers predict requests, so a
// slow forward pass or Grad-CAM never blocks the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { isDataError, loadImageForInference, type InferenceImage, type InferencePreprocessing } from '../data/index.js';
import { shouldReferToSpecialist, softmaxRow } from '../eval/index.js';
import { heatMapOf, predictAndExplain, renderHeatmap } from '../explain/index.js';
import { fromTypedArray, setNumThreads } from '../torch/index.js';
import { loadRun, type LoadedRun } from '../run/index.js';
import type { ImageOutcome, OverlayMethod, PredictRequest, StopRequest, WorkerInit, WorkerMessage } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.js must be started as a worker thread');
const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

async function decode(bytes: Uint8Array, inference: InferencePreprocessing): Promise<InferenceImage | ImageOutcome> {
  try {
    return await loadImageForInference(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), inference);
  } catch (error) {
    if (!isDataError(error)) throw error;
    const prefix = `${error.file}: ${error.reason}: `;
    const message = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    return { ok: false, reason: error.reason, message };
  }
}

function pngOf(pixels: Uint8Array, size: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

async function predict(run: LoadedRun, request: PredictRequest): Promise<ImageOutcome[]> {
  const decoded = await Promise.all(request.images.map((bytes) => decode(bytes, run.inference)));
  const good = decoded.filter((d): d is InferenceImage => !('ok' in d));
  if (good.length === 0) return decoded as ImageOutcome[];
  const size = run.inference.preprocessing.size;
  const batch = new Float32Array(good.length * 3 * size * size);
  good.forEach((image, i) => batch.set(image.x, i * image.x.length));
  const input = fromTypedArray(batch, [good.length, 3, size, size]);
  try {
    const { logits, maps } = predictAndExplain(run.model, input, request.overlays);
    const classes = run.classNames.length;
    const heatmaps = new Map<OverlayMethod, Buffer[]>();
    for (const method of request.overlays) {
      try {
        heatmaps.set(method, await Promise.all(good.map((_, i) => renderHeatmap(heatMapOf(maps[method]!, i), { width: size, height: size }))));
      } finally {
        maps[method]!.dispose();
      }
    }
    let g = 0;
    return await Promise.all(decoded.map(async (d): Promise<ImageOutcome> => {
      if ('ok' in d) return d;
      const i = g++;
      const probabilities = Array.from(softmaxRow(logits.subarray(i * classes, (i + 1) * classes), run.calibration.temperature));
      const predicted = probabilities.indexOf(Math.max(...probabilities));
      const maps: Partial<Record<OverlayMethod, Uint8Array>> = {};
      for (const [method, pngs] of heatmaps) maps[method] = pngs[i];
      return {
        ok: true,
        probabilities,
        predicted,
        refer: shouldReferToSpecialist(probabilities, run.calibration.referralThreshold),
        inputPng: await pngOf(d.pixels, size),
        heatmaps: maps,
        notes: d.notes,
      };
    }));
  } finally {
    input.dispose();
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  if (init.threads) setNumThreads(init.threads);
  let run: LoadedRun;
  try {
    run = await loadRun(init.runDir, init.device);
    run.inference.limits = { ...run.inference.limits, maxInputPixels: Math.min(run.inference.limits.maxInputPixels, init.maxInputPixels) };
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port!.on('message', (request: PredictRequest | StopRequest) => {
    if (request.type === 'stop') {
      run.model.dispose();
      port!.close();
      return;
    }
    predict(run, request).then(
      (outcomes) => send({ type: 'result', id: request.id, outcomes }),
      (error: unknown) => send({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) }),
    );
  });
  send({ type: 'ready' });
}

await main();
