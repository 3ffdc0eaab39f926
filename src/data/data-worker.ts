import { parentPort } from 'node:worker_threads';
import { runTask, type WorkerTask } from './worker-tasks.js';

/** Entry point of a pool worker: runs one task per message and transfers the result's buffers back. */
parentPort?.on('message', (message: { id: number; task: WorkerTask }) => {
  try {
    const result = runTask(message.task);
    const buffers = (Array.isArray(result) ? result : [result]).map((array) => array.buffer as ArrayBuffer);
    parentPort?.postMessage({ id: message.id, result }, buffers);
  } catch (error) {
    parentPort?.postMessage({ id: message.id, error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) });
  }
});
