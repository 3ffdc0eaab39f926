// Gradient-mode switches, as torch.no_grad() / torch.enable_grad().
import { native } from './native.js';

function withGradMode<R>(enabled: boolean, fn: () => R): R {
  const previous: boolean = native.setGradEnabled(enabled);
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new Error('noGrad()/enableGrad() got an async function: grad mode is thread-global and cannot span an await.');
    }
    return result;
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs fn without recording operations for autograd (inference, metric computation). */
export const noGrad = <R>(fn: () => R): R => withGradMode(false, fn);
/** Runs fn with autograd on, even inside noGrad (e.g. Grad-CAM during evaluation). */
export const enableGrad = <R>(fn: () => R): R => withGradMode(true, fn);
export const isGradEnabled = (): boolean => native.isGradEnabled();
