// The --device and --threads options every inference command shares.
import { resolveDevice, setNumThreads } from '../torch/index.js';

export function selectDevice(requested: string, threads?: number): string {
  if (threads !== undefined) setNumThreads(threads);
  return resolveDevice(requested);
}
