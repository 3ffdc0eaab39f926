// The server's side of inference: worker threads that each load the run, one request at a time per
// worker, and a bounded queue in front of them. A full queue refuses at once (QueueFullError → 503)
// instead of letting memory and latency grow without limit.
import { Worker } from 'node:worker_threads';
import type { CaseSummary } from '../run/index.js';
import type { ImageOutcome, OverlayMethod, PredictRequest, StopRequest, StoredResult, SummarizeRequest, WorkerInit, WorkerMessage } from './protocol.js';

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

type JobRequest = Omit<PredictRequest, 'id'> | Omit<SummarizeRequest, 'id'>;

interface Job {
  request: JobRequest;
  resolve: (value: ImageOutcome[] | CaseSummary) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
  exited: Promise<void>;
}

const workerUrl = new URL('./inference-worker.js', import.meta.url);

export interface PoolOptions extends WorkerInit {
  workers: number;
  /** Requests waiting for a free worker beyond which new ones get QueueFullError. */
  maxQueue: number;
}

export class InferencePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly maxQueue: number) {}

  /** Starts the workers and waits until each has loaded the run (rejects with the load error). */
  static async start(options: PoolOptions): Promise<InferencePool> {
    const pool = new InferencePool(options.maxQueue);
    const init: WorkerInit = { runDir: options.runDir, device: options.device, maxInputPixels: options.maxInputPixels, threads: options.threads };
    try {
      await Promise.all(Array.from({ length: options.workers }, () => pool.spawn(init)));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get pending(): number {
    return this.queue.length;
  }

  get busy(): number {
    return this.slots.filter((s) => s.job).length;
  }

  predict(images: PredictRequest['images'], overlays: OverlayMethod[]): Promise<ImageOutcome[]> {
    return this.submit({ type: 'predict', images, overlays }, true) as Promise<ImageOutcome[]>;
  }

  /**
   * The case summary of results already predicted. Not held to the queue bound: it follows a request
   * that was admitted (or a page asking for a case it shows), takes milliseconds, and refusing it
   * would lose the answer to an upload whose images were already analysed.
   */
  summarize(results: StoredResult[], caseId: string | null, maxFlaggedShare: number): Promise<CaseSummary> {
    return this.submit({ type: 'summarize', results, caseId, maxFlaggedShare }, false) as Promise<CaseSummary>;
  }

  private submit(request: JobRequest, bounded: boolean): Promise<ImageOutcome[] | CaseSummary> {
    if (this.closed) return Promise.reject(new Error('the inference pool is closed'));
    const idle = this.slots.find((s) => !s.job);
    if (!idle && bounded && this.queue.length >= this.maxQueue) {
      return Promise.reject(new QueueFullError(`the server is busy: ${this.queue.length} requests are already waiting; try again in a moment`));
    }
    return new Promise((resolve, reject) => {
      const job = { request, resolve, reject };
      if (idle) this.dispatch(idle, job);
      else this.queue.push(job);
    });
  }

  /** Refuses what is queued, lets running requests finish, then lets every worker end by itself. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the server is shutting down'));
    await Promise.all(this.slots.map(async (slot) => {
      while (slot.job) await new Promise((resolve) => setTimeout(resolve, 20));
      const stop: StopRequest = { type: 'stop' };
      slot.worker.postMessage(stop);
      await slot.exited;
    }));
  }

  private spawn(init: WorkerInit): Promise<void> {
    return new Promise((resolveReady, rejectReady) => {
      const worker = new Worker(workerUrl, { workerData: init });
      let exited!: () => void;
      const slot: Slot = { worker, job: null, exited: new Promise((resolve) => { exited = resolve; }) };
      let ready = false;
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          ready = true;
          this.slots.push(slot);
          resolveReady();
        } else if (message.type === 'failed') {
          rejectReady(new Error(message.message));
        } else {
          this.finish(slot, message.type === 'result' ? message.outcomes : message.type === 'summary' ? message.summary : new Error(message.message));
        }
      });
      worker.on('error', (error: Error) => {
        if (!ready) rejectReady(error);
        else this.finish(slot, error);
      });
      worker.on('exit', (code) => {
        exited();
        if (!ready) rejectReady(new Error(`the inference worker exited (code ${code}) before loading the run`));
        const index = this.slots.indexOf(slot);
        if (index >= 0) this.slots.splice(index, 1);
        slot.job?.reject(new Error(`the inference worker stopped (code ${code})`));
        slot.job = null;
        if (ready && !this.closed) this.respawn(init);
      });
    });
  }

  /** A worker that died (out of memory, native crash) is replaced, so one bad request cannot take the service down. */
  private respawn(init: WorkerInit): void {
    this.spawn(init).then(() => this.drain(), (error: unknown) => {
      for (const job of this.queue.splice(0)) job.reject(error instanceof Error ? error : new Error(String(error)));
    });
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    const request = { ...job.request, id: this.nextId++ } as PredictRequest | SummarizeRequest;
    if (request.type === 'summarize') {
      slot.worker.postMessage(request);
      return;
    }
    // Images that own their whole ArrayBuffer are moved to the worker, not copied: with large
    // uploads a copy would double what a request holds. A view into a shared buffer is copied.
    const owned = request.images.map((image) => image.bytes).filter((b) => b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer);
    slot.worker.postMessage(request, [...new Set(owned.map((b) => b.buffer as ArrayBuffer))]);
  }

  private finish(slot: Slot, result: ImageOutcome[] | CaseSummary | Error): void {
    const job = slot.job;
    slot.job = null;
    if (job) {
      if (result instanceof Error) job.reject(result);
      else job.resolve(result);
    }
    this.drain();
  }

  private drain(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      this.dispatch(slot, job);
    }
  }
}
