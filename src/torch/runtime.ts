// Process-wide engine settings: threads, seeds, devices, memory counters.
import { availableParallelism } from 'node:os';
import { native } from './native.js';
import { Tensor } from './tensor.js';

/** Intra-op threads for CPU kernels. aplnet's default is all cores (see setDefaultThreads). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: need a positive integer, got ${n}`);
  native.setNumThreads(n);
}
export const getNumThreads = (): number => native.getNumThreads();
/** Sets libtorch's generators (CPU and CUDA): with the same seed, CPU runs are bit-identical. */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`manualSeed: need a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}
/** A copy of the CPU random generator's state (uint8 tensor), for exact resume from a checkpoint. */
export const getCpuRngState = (): Tensor => new Tensor(native.cpuRngGetState());
/** Restores a state from getCpuRngState: the following random numbers repeat exactly. */
export function setCpuRngState(state: Tensor): void {
  native.cpuRngSetState(state.handle);
}
export const cudaIsAvailable = (): boolean => native.cudaIsAvailable();
export const cudaDeviceCount = (): number => native.cudaDeviceCount();
export const libtorchVersion = (): string => native.libtorchVersion();
/** Tensors alive in native memory and their CPU bytes; for leak checks and diagnostics. */
export const memoryInfo = (): { liveTensors: number; liveBytes: number } => ({ liveTensors: native.liveTensors(), liveBytes: native.liveBytes() });

/** Resolves 'auto' | 'cpu' | 'cuda[:n]' to a device this machine has, or throws saying why not. */
export function resolveDevice(requested: string): string {
  if (requested === 'auto') return cudaIsAvailable() ? 'cuda' : 'cpu';
  if (requested === 'cpu') return 'cpu';
  if (/^cuda(:\d+)?$/.test(requested)) {
    if (!cudaIsAvailable()) {
      throw new Error(`device "${requested}" asked for, but this libtorch (${libtorchVersion()}) sees no CUDA GPU. Use --device cpu, or build aplnet against a CUDA PyTorch with LIBTORCH_USE_PYTORCH=1.`);
    }
    return requested;
  }
  throw new Error(`unknown device "${requested}": use cpu, cuda, cuda:N or auto`);
}

// Default to every core, as the README promises; libtorch's own default differs between builds.
setNumThreads(Math.max(1, availableParallelism()));
