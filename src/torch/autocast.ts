// Mixed precision, as torch.autocast(device_type, dtype): inside the region, the ops PyTorch's
// autocast lists (convolutions, matmuls, linear) run in the lower precision and the ones that need
// range (softmax, losses, norms' statistics) in float32; weights stay float32, so no loss scaling is
// needed with bfloat16.
import { native } from './native.js';

export type AutocastDevice = 'cuda' | 'cpu';
export type AutocastDtype = 'bfloat16' | 'float16';

/** The device type autocast must be set for, from a device string ('cuda:1' → 'cuda'). */
export function autocastDeviceOf(device: string): AutocastDevice {
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda' || device.startsWith('cuda:')) return 'cuda';
  throw new Error(`autocast: no autocast for device "${device}"; use cpu, cuda or cuda:N`);
}

/** Runs fn (synchronously) with autocast on for `device`; the state before is restored after, also on a throw. */
export function autocast<R>(device: string, dtype: AutocastDtype, fn: () => R): R {
  native.autocastEnter(autocastDeviceOf(device), dtype);
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new Error('autocast() got an async function: autocast state is per thread and cannot span an await.');
    }
    return result;
  } finally {
    native.autocastExit();
  }
}

export const isAutocastEnabled = (device: string): boolean => native.isAutocastEnabled(autocastDeviceOf(device));
