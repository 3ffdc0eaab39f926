// Functions that make new tensors. Defaults: float32 on the CPU, as in PyTorch.
import { arrayTypeOf, dtypeOfArray, DTYPES, holdsRawBits, type DType, type DTypeArray } from './dtype.js';
import { native, type Handle } from './native.js';
import { Tensor, type Device } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}

function made(handle: Handle, opts: CreateOptions): Tensor {
  const t = new Tensor(handle);
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

function checkShape(shape: number[], fn: string): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`${fn}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

export function zeros(shape: number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'zeros');
  return made(native.zeros(shape, opts.dtype ?? 'float32', opts.device ?? 'cpu'), opts);
}
export function ones(shape: number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'ones');
  return made(native.ones(shape, opts.dtype ?? 'float32', opts.device ?? 'cpu'), opts);
}
export function full(shape: number[], value: number, opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'full');
  return made(native.full(shape, value, opts.dtype ?? 'float32', opts.device ?? 'cpu'), opts);
}
/** Standard normal samples from libtorch's generator (seeded by manualSeed). */
export function randn(shape: number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'randn');
  return made(native.randn(shape, opts.dtype ?? 'float32', opts.device ?? 'cpu'), opts);
}
/** Uniform samples in [0, 1). */
export function rand(shape: number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'rand');
  return made(native.rand(shape, opts.dtype ?? 'float32', opts.device ?? 'cpu'), opts);
}
/** Integers in [low, high), int64 by default. */
export function randint(low: number, high: number, shape: number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'randint');
  return made(native.randint(low, high, shape, opts.dtype ?? 'int64', opts.device ?? 'cpu'), opts);
}
export function randperm(n: number, opts: CreateOptions = {}): Tensor {
  return made(native.randperm(n, opts.dtype ?? 'int64', opts.device ?? 'cpu'), opts);
}
/** Values start, start+step, … below end; float32 unless a dtype is given. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  return made(native.arange(from, to, step, opts.dtype ?? 'float32', opts.device ?? 'cpu'), opts);
}

/**
 * Copies a typed array into a new tensor of the given shape. The dtype follows the array
 * (Float32Array → float32, Uint8Array → uint8, BigInt64Array → int64, …) unless given.
 */
export function fromTypedArray(data: DTypeArray, shape: number[], opts: CreateOptions = {}): Tensor {
  checkShape(shape, 'fromTypedArray');
  const dtype = opts.dtype ?? dtypeOfArray(data);
  if (!dtype) throw new Error(`fromTypedArray: a ${data.constructor.name} needs an explicit dtype (${DTYPES.filter((d) => data instanceof arrayTypeOf(d)).join(' or ')})`);
  const t = new Tensor(native.fromBuffer(data, shape, dtype));
  if (opts.device && opts.device !== 'cpu') {
    const moved = t.to({ device: opts.device });
    t.dispose();
    if (opts.requiresGrad) moved.requiresGrad = true;
    return moved;
  }
  if (opts.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor from (nested) JS numbers; float32 unless a dtype is given. */
export function tensor(values: number | number[] | number[][] | number[][][] | number[][][][], opts: CreateOptions = {}): Tensor {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const flat = (Array.isArray(values) ? (values as unknown[]).flat(Infinity) : [values]) as number[];
  if (flat.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`tensor: ragged nested array, shape ${JSON.stringify(shape)} but ${flat.length} values`);
  const dtype = opts.dtype ?? 'float32';
  // A 16-bit float is held as raw bits, which JS numbers cannot be written into: go through float32.
  const storage: DType = holdsRawBits(dtype) ? 'float32' : dtype;
  const base = fromTypedArray(typedArrayFromNumbers(flat, storage), shape, { device: opts.device, dtype: storage });
  if (storage === dtype) {
    if (opts.requiresGrad) base.requiresGrad = true;
    return base;
  }
  const cast = base.to(dtype);
  base.dispose();
  if (opts.requiresGrad) cast.requiresGrad = true;
  return cast;
}

function typedArrayFromNumbers(values: number[], dtype: DType): DTypeArray {
  const ArrayType = arrayTypeOf(dtype);
  if (ArrayType === BigInt64Array) return BigInt64Array.from(values, (v) => BigInt(Math.trunc(v)));
  // Every other dtype's array takes numbers; the cast only picks one of their identical from() signatures.
  return (ArrayType as Float64ArrayConstructor).from(values);
}
