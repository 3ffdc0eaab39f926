import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { runTask, type WorkerTask } from './worker-tasks.js';

interface PendingTask {
  id: number;
  task: WorkerTask;
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** min(2, cores): enough to keep ahead of training; more would compete with libtorch's own threads. */
export function defaultWorkerCount(): number {
  return Math.min(2, availableParallelism());
}

/**
 * A fixed set of worker threads running the pixel tasks of worker-tasks.ts. With size 0 tasks run
 * inline on the calling thread (same results, useful for tests and tiny datasets). Idle workers
 * are unref'd so a forgotten close() never keeps the process alive.
 */
export class WorkerPool {
  private readonly idle: Worker[] = [];
  private readonly queue: PendingTask[] = [];
  private readonly running = new Map<Worker, PendingTask>();
  private nextId = 0;
  private closed = false;
  private alive: number;

  constructor(readonly size: number = defaultWorkerCount()) {
    this.alive = size;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./data-worker.js', import.meta.url));
      worker.on('message', (message: { id: number; result?: unknown; error?: string }) => this.settle(worker, message));
      worker.on('error', (error: Error) => this.fail(worker, error));
      worker.unref();
      this.idle.push(worker);
    }
  }

  run<T extends Float32Array | Uint8Array[]>(task: WorkerTask): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    if (this.size === 0) return Promise.resolve().then(() => runTask(task) as T);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, task, resolve: resolve as (result: unknown) => void, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const pending = this.queue.shift()!;
      this.running.set(worker, pending);
      worker.ref();
      worker.postMessage({ id: pending.id, task: pending.task });
    }
  }

  private settle(worker: Worker, message: { id: number; result?: unknown; error?: string }): void {
    const pending = this.running.get(worker);
    this.running.delete(worker);
    worker.unref();
    this.idle.push(worker);
    if (pending) {
      if (message.error !== undefined) pending.reject(new Error(`data worker: ${message.error}`));
      else pending.resolve(message.result);
    }
    this.dispatch();
  }

  /** A worker that died takes its task down with it; when none are left, queued tasks fail too instead of waiting forever. */
  private fail(worker: Worker, error: Error): void {
    this.running.get(worker)?.reject(error);
    this.running.delete(worker);
    const idleAt = this.idle.indexOf(worker);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    this.alive--;
    if (this.alive === 0) {
      for (const pending of this.queue.splice(0)) pending.reject(new Error(`every data worker died; the last error: ${error.message}`));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error('the worker pool closed before this task ran'));
    const workers = [...this.idle, ...this.running.keys()];
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
