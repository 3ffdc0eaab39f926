// Explanations look at the model as it predicts: eval mode (running BN statistics, no dropout), and
// without touching its parameters' gradients, so explaining in the middle of training is harmless.
import type { Module } from '../nn/index.js';

/** Runs fn with the model in eval mode, then restores the mode it was in. */
export function inEvalMode<R>(model: Module, fn: () => R): R {
  const wasTraining = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(wasTraining);
  }
}

/**
 * Runs fn with every parameter's requiresGrad off, then restores it: backward() then reaches the
 * activations (through an input that requires grad) but never accumulates into parameter .grad.
 */
export function withFrozenParameters<R>(model: Module, fn: () => R): R {
  const parameters = model.parameters();
  const previous = parameters.map((p) => p.requiresGrad);
  for (const p of parameters) p.requiresGrad = false;
  try {
    return fn();
  } finally {
    parameters.forEach((p, i) => { p.requiresGrad = previous[i]; });
  }
}
