// Deterministic release of native memory, after TensorFlow.js's engine: tidy(fn) frees every
// tensor created inside fn except those it returns (or keep()s); the native finalizer frees
// what escapes all scopes once V8 collects it (each handle's N-API finalizer).
import type { Tensor } from './tensor.js';

const scopes: Set<Tensor>[] = [];

/** Records a new tensor in the innermost open scope. Called by Tensor's constructor. */
export function track(t: Tensor): void {
  const top = scopes[scopes.length - 1];
  if (top) top.add(t);
}

/** Removes a tensor from every open scope so that no tidy() frees it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

function collectTensors(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor, depth = 0): void {
  if (depth > 8 || value === null || typeof value !== 'object') return;
  if (isTensor(value)) {
    out.add(value);
    return;
  }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const item of items) collectTensors(item, out, isTensor, depth + 1);
}

let tensorCheck: ((v: unknown) => v is Tensor) | null = null;
/** Lets tensor.ts tell scope.ts how to recognise a Tensor without an import cycle. */
export function registerTensorCheck(check: (v: unknown) => v is Tensor): void {
  tensorCheck = check;
}

/**
 * Runs fn and frees every tensor it created, except the ones in its result (a tensor, or arrays /
 * plain objects / Maps holding tensors), which move to the enclosing scope. fn must be synchronous.
 */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy() got an async function; tensors cannot be tracked across await. Use tidy inside the async code, or dispose() by hand.');
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors, tensorCheck!);
  for (const t of scope) if (!survivors.has(t)) t.dispose();
  const parent = scopes[scopes.length - 1];
  if (parent) for (const t of survivors) if (scope.has(t)) parent.add(t);
  return result;
}

/** Disposes every tensor in a value (a tensor, or arrays / objects holding tensors). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(value, found, tensorCheck!);
  for (const t of found) t.dispose();
}
