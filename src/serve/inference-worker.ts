// The inference worker: loads the run once in its own thread and answers predict requests through
// the one prediction core (src/run), so a slow forward pass or map never blocks the server's event
// loop, and the page shows exactly what `aplnet predict` would say.
import { parentPort, workerData } from 'node:worker_threads';
import { attachCaseEmbeddings, heatmapPng, inputPng, loadRun, predictImages, summarizeCase, type CaseSummary, type LoadedRun, type PredictResult } from '../run/index.js';
import { setNumThreads } from '../torch/index.js';
import type { ImageOutcome, PredictRequest, StopRequest, SummarizeRequest, WorkerInit, WorkerMessage } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('inference-worker.js must be started as a worker thread');
const send = (message: WorkerMessage): void => port.postMessage(message);

async function served(result: PredictResult, request: PredictRequest): Promise<ImageOutcome> {
  if (!result.ok) return result;
  const { pixels: _pixels, maps: _maps, side: _side, ...call } = result;
  const heatmaps: Partial<Record<string, Uint8Array>> = {};
  // Clear where the map is low, so the page's opacity slider blends exactly as the CLI's overlay does.
  for (const method of request.overlays) heatmaps[method] = await heatmapPng(result, method, { valueAlpha: true });
  return { ...call, inputPng: await inputPng(result), heatmaps };
}

async function predict(run: LoadedRun, request: PredictRequest): Promise<ImageOutcome[]> {
  const inputs = request.images.map(({ name, bytes }) => ({ name, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }));
  const results = await predictImages(run, inputs, { maps: request.overlays, embeddings: true });
  // What the run's case model reads, taken while the pixels are here: a case keeps calls, not pixels.
  attachCaseEmbeddings(run, results);
  return Promise.all(results.map((result) => served(result, request)));
}

/** The summary reads the calls, never the pixels or maps, which a case keeps as PNGs on the main thread. */
function summarize(run: LoadedRun, request: SummarizeRequest): CaseSummary {
  const results: PredictResult[] = request.results.map((r) => (r.ok ? { ...r, pixels: new Uint8Array(0), side: 0, maps: {} } : r));
  return summarizeCase(run, results, { caseId: request.caseId ?? undefined, maxFlaggedShare: request.maxFlaggedShare });
}

/**
 * Every network of the run in the channels-last layout, on CPU: oneDNN's faster convolutions there
 * (a 200-cell case through the page, interleaved on 2 idle cores: 8.45–10.35 s, median 8.8, against
 * 9.97–10.99 s, median 10.1, for the default layout). Same values, another memory order: what leaves
 * the worker (calls, embeddings, maps) is read out contiguous, and these models are never saved.
 */
function channelsLast(run: LoadedRun): void {
  for (const part of [run, ...(run.members ?? [])]) {
    part.model.toMemoryFormat('channels_last');
    part.caseLevel?.model?.encoder?.toMemoryFormat('channels_last');
  }
}

async function main(): Promise<void> {
  const init = workerData as WorkerInit;
  if (init.threads) setNumThreads(init.threads);
  let run: LoadedRun;
  try {
    run = await loadRun(init.runDir, { device: init.device });
    if (init.device === 'cpu') channelsLast(run);
    run.inference.limits = { ...run.inference.limits, maxInputPixels: Math.min(run.inference.limits.maxInputPixels, init.maxInputPixels) };
  } catch (error) {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    return;
  }
  port!.on('message', (request: PredictRequest | SummarizeRequest | StopRequest) => {
    if (request.type === 'stop') {
      run.model.dispose();
      port!.close();
      return;
    }
    if (request.type === 'summarize') {
      try {
        send({ type: 'summary', id: request.id, summary: summarize(run, request) });
      } catch (error) {
        send({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) });
      }
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
