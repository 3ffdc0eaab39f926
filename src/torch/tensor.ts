// The Tensor type: a thin, typed face over one native libtorch handle. Methods mirror PyTorch's
// names (camelCase); every result is a new Tensor tracked by the innermost tidy() scope.
import { native, type Handle } from './native.js';
import { holdsRawBits, isDType, typedArrayOf, type DType, type TypedArrayFor } from './dtype.js';
import { registerTensorCheck, track } from './scope.js';

export type { DType, TypedArrayFor } from './dtype.js';
export { isDType } from './dtype.js';
export type Device = string;
/** Memory layout of a 4-D tensor: NCHW's own strides, or channels-last (NHWC strides, same NCHW shape). */
export type MemoryFormat = 'contiguous' | 'channels_last'; // 'cpu', 'cuda', 'cuda:1'

// The safety net for tensors nobody disposed is native: each handle is an N-API external whose
// finalizer frees the tensor when V8 collects it (the same weak-callback mechanism a
// FinalizationRegistry uses). A JS FinalizationRegistry on top was measured to cost 0.4-1.8 µs per
// op and to let V8's heap grow from 7 to 63 MB over 20,000 training steps, so there is none.

function toDims(dims: number | number[]): number[] {
  return typeof dims === 'number' ? [dims] : dims;
}

export class Tensor {
  /** @internal The native handle; valid until dispose(). */
  readonly handle: Handle;
  private cachedShape: number[] | null = null;

  /** @internal Wraps a handle returned by the addon; use the creation functions instead. */
  constructor(handle: Handle) {
    this.handle = handle;
    track(this);
  }

  get shape(): number[] {
    if (!this.cachedShape) this.cachedShape = native.shape(this.handle);
    return this.cachedShape!.slice();
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return native.dtype(this.handle);
  }
  get device(): Device {
    return native.device(this.handle);
  }
  get isDisposed(): boolean {
    return native.isDisposed(this.handle);
  }

  /** Frees the native memory now. Using the tensor afterwards throws a clear Error. */
  dispose(): void {
    native.dispose(this.handle);
  }

  // ---- data in and out ----
  /** A copy of the values as a typed array matching the dtype (bfloat16/float16 as raw Uint16). */
  data<D extends DType = DType>(): TypedArrayFor<D> {
    return typedArrayOf(this.dtype, native.toBuffer(this.handle)) as TypedArrayFor<D>;
  }
  /** Values as plain numbers (converts 16-bit floats and int64 exactly enough for reporting). */
  toArray(): number[] {
    const t = holdsRawBits(this.dtype) ? this.to('float32') : this;
    const values = Array.from(t.data() as ArrayLike<number | bigint>, Number);
    if (t !== this) t.dispose();
    return values;
  }
  item(): number {
    return native.item(this.handle);
  }

  // ---- conversion ----
  /** Moves to a device ('cpu', 'cuda', 'cuda:1') or casts to a dtype. */
  to(target: Device | DType | { device?: Device; dtype?: DType; nonBlocking?: boolean }): Tensor {
    const spec = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    let h = this.handle;
    let moved: Tensor | null = null;
    if (spec.device !== undefined) {
      moved = new Tensor(native.toDevice(h, spec.device, spec.nonBlocking ?? false));
      h = moved.handle;
    }
    if (spec.dtype !== undefined) {
      const cast = new Tensor(native.toDtype(h, spec.dtype));
      if (moved) moved.dispose();
      return cast;
    }
    return moved ?? this.clone();
  }
  clone(): Tensor { return new Tensor(native.clone(this.handle)); }
  detach(): Tensor { return new Tensor(native.detach(this.handle)); }
  /** A contiguous copy (or this tensor's storage, if already so) in the given memory format: NCHW's own ('contiguous') or channels-last (NHWC strides, same NCHW shape). */
  contiguous(format: MemoryFormat = 'contiguous'): Tensor {
    return new Tensor(format === 'contiguous' ? native.contiguous(this.handle) : native.contiguousAs(this.handle, format));
  }
  isContiguous(format: MemoryFormat = 'contiguous'): boolean { return native.isContiguousAs(this.handle, format); }
  /** Gives this tensor source's storage, strides and device in place (param.data = source): every reference to it sees the change. */
  setData(source: Tensor): this {
    native.setData(this.handle, source.handle);
    return this;
  }
  /** Copies src's values into this tensor in place, without recording gradients. */
  copy_(src: Tensor): this {
    native.copy_(this.handle, src.handle);
    return this;
  }

  // ---- arithmetic: a Tensor or a number on the right ----
  add(o: Tensor | number): Tensor { return binary(this, o, native.add, native.addScalar); }
  sub(o: Tensor | number): Tensor { return binary(this, o, native.sub, native.subScalar); }
  mul(o: Tensor | number): Tensor { return binary(this, o, native.mul, native.mulScalar); }
  div(o: Tensor | number): Tensor { return binary(this, o, native.div, native.divScalar); }
  pow(o: Tensor | number): Tensor { return binary(this, o, native.pow, native.powScalar); }
  /** value - this */
  rsub(value: number): Tensor { return new Tensor(native.rsubScalar(this.handle, value)); }
  maximum(o: Tensor): Tensor { return new Tensor(native.maximum(this.handle, o.handle)); }
  minimum(o: Tensor): Tensor { return new Tensor(native.minimum(this.handle, o.handle)); }
  eq(o: Tensor | number): Tensor { return binary(this, o, native.eq, native.eqScalar); }
  ne(o: Tensor | number): Tensor { return binary(this, o, native.ne, native.neScalar); }
  lt(o: Tensor | number): Tensor { return binary(this, o, native.lt, native.ltScalar); }
  le(o: Tensor | number): Tensor { return binary(this, o, native.le, native.leScalar); }
  gt(o: Tensor | number): Tensor { return binary(this, o, native.gt, native.gtScalar); }
  ge(o: Tensor | number): Tensor { return binary(this, o, native.ge, native.geScalar); }
  neg(): Tensor { return new Tensor(native.neg(this.handle)); }
  exp(): Tensor { return new Tensor(native.exp(this.handle)); }
  log(): Tensor { return new Tensor(native.log(this.handle)); }
  sqrt(): Tensor { return new Tensor(native.sqrt(this.handle)); }
  abs(): Tensor { return new Tensor(native.abs(this.handle)); }
  relu(): Tensor { return new Tensor(native.relu(this.handle)); }
  sigmoid(): Tensor { return new Tensor(native.sigmoid(this.handle)); }
  tanh(): Tensor { return new Tensor(native.tanh(this.handle)); }
  logicalNot(): Tensor { return new Tensor(native.logicalNot(this.handle)); }
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(native.clamp(this.handle, min ?? null, max ?? null));
  }
  matmul(o: Tensor): Tensor { return new Tensor(native.matmul(this.handle, o.handle)); }
  softmax(dim: number): Tensor { return new Tensor(native.softmax(this.handle, dim)); }
  logSoftmax(dim: number): Tensor { return new Tensor(native.logSoftmax(this.handle, dim)); }

  // ---- reductions: no dims means over everything ----
  sum(dims?: number | number[], keepdim = false): Tensor {
    return dims === undefined ? new Tensor(native.sumAll(this.handle)) : new Tensor(native.sum(this.handle, toDims(dims), keepdim));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return dims === undefined ? new Tensor(native.meanAll(this.handle)) : new Tensor(native.mean(this.handle, toDims(dims), keepdim));
  }
  /** Maximum over dims (values only); see maxWithIndices for PyTorch's max(dim). */
  amax(dims: number | number[], keepdim = false): Tensor { return new Tensor(native.amax(this.handle, toDims(dims), keepdim)); }
  amin(dims: number | number[], keepdim = false): Tensor { return new Tensor(native.amin(this.handle, toDims(dims), keepdim)); }
  maxWithIndices(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = native.maxDim(this.handle, dim, keepdim);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  argmax(dim: number, keepdim = false): Tensor { return new Tensor(native.argmax(this.handle, dim, keepdim)); }

  // ---- shape and indexing ----
  reshape(shape: number[]): Tensor { return new Tensor(native.reshape(this.handle, shape)); }
  /** Flattens dims from startDim on (PyTorch's flatten(start_dim)). */
  flatten(startDim = 0): Tensor {
    const s = this.shape;
    return this.reshape([...s.slice(0, startDim), s.slice(startDim).reduce((a, b) => a * b, 1)]);
  }
  unsqueeze(dim: number): Tensor {
    const s = this.shape;
    const d = dim < 0 ? s.length + 1 + dim : dim;
    return this.reshape([...s.slice(0, d), 1, ...s.slice(d)]);
  }
  permute(dims: number[]): Tensor { return new Tensor(native.permute(this.handle, dims)); }
  expand(shape: number[]): Tensor { return new Tensor(native.expand(this.handle, shape)); }
  /** Elements start..end (exclusive) with step along dim; negative indices count from the end. */
  slice(dim: number, start: number, end?: number, step = 1): Tensor {
    const size = this.shape[dim < 0 ? this.ndim + dim : dim];
    return new Tensor(native.slice(this.handle, dim, start, end ?? size, step));
  }
  /** Picks one index along dim, dropping that dim. */
  select(dim: number, index: number): Tensor { return new Tensor(native.select(this.handle, dim, index)); }
  indexSelect(dim: number, index: Tensor): Tensor { return new Tensor(native.indexSelect(this.handle, dim, index.handle)); }
  gather(dim: number, index: Tensor): Tensor { return new Tensor(native.gather(this.handle, dim, index.handle)); }
  flip(dims: number | number[]): Tensor { return new Tensor(native.flip(this.handle, toDims(dims))); }
  rot90(k = 1, dims: [number, number] = [0, 1]): Tensor { return new Tensor(native.rot90(this.handle, k, dims)); }

  // ---- autograd ----
  get requiresGrad(): boolean { return native.requiresGrad(this.handle); }
  set requiresGrad(value: boolean) { native.setRequiresGrad(this.handle, value); }
  /** Marks the tensor as a leaf that collects gradients; returns this for chaining. */
  requiresGrad_(value = true): this {
    native.setRequiresGrad(this.handle, value);
    return this;
  }
  get isLeaf(): boolean { return native.isLeaf(this.handle); }
  /** The accumulated gradient, or null. Each read returns a new handle to the same storage. */
  get grad(): Tensor | null {
    const h = native.grad(this.handle);
    return h === null ? null : new Tensor(h);
  }
  /** Drops the accumulated gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void { native.zeroGrad(this.handle); }
  /** Keeps the gradient of a non-leaf tensor (an activation) after backward — Grad-CAM needs it. */
  retainGrad(): this {
    native.retainGrad(this.handle);
    return this;
  }
  backward(gradient?: Tensor, { retainGraph = false } = {}): void {
    native.backward(this.handle, gradient?.handle ?? null, retainGraph);
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(shape=[${this.shape}], dtype=${this.dtype}, device=${this.device})`;
  }
}

type BinaryOp = (a: Handle, b: Handle) => Handle;
type ScalarOp = (a: Handle, b: number) => Handle;
function binary(a: Tensor, b: Tensor | number, tensorOp: BinaryOp, scalarOp: ScalarOp): Tensor {
  return typeof b === 'number' ? new Tensor(scalarOp(a.handle, b)) : new Tensor(tensorOp(a.handle, b.handle));
}

export function isTensor(value: unknown): value is Tensor {
  return value instanceof Tensor;
}
registerTensorCheck(isTensor);
