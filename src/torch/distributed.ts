// torch.distributed for aplnet: one process group per process over libtorch's own c10d (Gloo on
// CPU, NCCL on CUDA), joined through a TCPStore rendezvous as torchrun does, and the collectives
// that data-parallel training and sharded inference need. Every wait is bounded by the group's
// timeout, so a rank whose peer died or hangs ends with an Error instead of hanging.
import { native } from './native.js';
import { fromTypedArray } from './creation.js';
import { Tensor } from './tensor.js';

export type Backend = 'gloo' | 'nccl';
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

export interface ProcessGroupOptions {
  /** gloo (CPU tensors) or nccl (CUDA tensors); default gloo. */
  backend?: Backend;
  /** Where rank 0 serves the rendezvous store (torchrun's MASTER_ADDR, MASTER_PORT). */
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** Bounds the rendezvous and every collective afterwards; default 10 minutes. */
  timeoutMs?: number;
}

export const DEFAULT_PROCESS_GROUP_TIMEOUT_MS = 10 * 60_000;

/** The backends this build of the addon has (empty when it was built without c10d; see distributedBuildNote). */
export function availableBackends(): Backend[] {
  return native.distBackends().split(',').filter((b): b is Backend => b === 'gloo' || b === 'nccl');
}
/** Why a backend is missing from this build ("" when none is). */
export const distributedBuildNote = (): string => native.distBuildNote();

/** Joins the world; resolves once every rank has arrived (the event loop stays free meanwhile). */
export async function initProcessGroup(options: ProcessGroupOptions): Promise<void> {
  const { backend = 'gloo', masterAddr, masterPort, rank, worldSize, timeoutMs = DEFAULT_PROCESS_GROUP_TIMEOUT_MS } = options;
  for (const [name, value] of [['rank', rank], ['worldSize', worldSize], ['masterPort', masterPort], ['timeoutMs', timeoutMs]] as const) {
    if (!Number.isInteger(value)) throw new Error(`initProcessGroup: ${name} must be an integer, got ${value}`);
  }
  if (!availableBackends().includes(backend)) {
    throw new Error(`initProcessGroup: this build of aplnet has no "${backend}" backend (it has ${availableBackends().join(', ') || 'none'}${distributedBuildNote() ? `; ${distributedBuildNote()}` : ''})`);
  }
  await native.distInit(backend, masterAddr, masterPort, rank, worldSize, timeoutMs);
}

/** Leaves the world. Call after the last collective, on every rank. */
export function destroyProcessGroup(): void {
  native.distDestroy();
}
export const isDistributedInitialized = (): boolean => native.distIsInitialized();
/** This process's rank (0 when not in a group). */
export const getRank = (): number => native.distRank();
/** Ranks in the world (1 when not in a group). */
export const getWorldSize = (): number => native.distWorldSize();

const asList = (t: Tensor | Tensor[]): Tensor[] => (Array.isArray(t) ? t : [t]);

/** Reduces in place over all ranks (the tensors travel as one flat buffer). */
export function allReduce(tensors: Tensor | Tensor[], op: ReduceOp = 'sum'): void {
  native.distAllReduce(asList(tensors).map((t) => t.handle), op);
}
/** Copies rank `src`'s values into every rank's tensors, in place. */
export function broadcast(tensors: Tensor | Tensor[], src = 0): void {
  native.distBroadcast(asList(tensors).map((t) => t.handle), src);
}
/** Every rank's `t` (one shape on all ranks), stacked in rank order: [worldSize, ...t.shape]. */
export function allGather(t: Tensor): Tensor {
  return new Tensor(native.distAllGather(t.handle));
}
/** Resolves when every rank has reached it. */
export async function barrier(): Promise<void> {
  await native.distBarrier();
}
/** The sum over ranks, differentiable: its gradient is the sum over ranks of the gradients (synchronised batch norm). */
export function allReduceSumWithGrad(t: Tensor): Tensor {
  return new Tensor(native.distAllReduceSumWithGrad(t.handle));
}

/** The rendezvous store: small strings between ranks (a "ready" signal, an error to share). */
export const distributedStore = {
  set(key: string, value: string): void {
    native.distStoreSet(key, value);
  },
  /** Waits up to timeoutMs for another rank to set key. */
  get(key: string, timeoutMs = DEFAULT_PROCESS_GROUP_TIMEOUT_MS): Promise<string> {
    return native.distStoreGet(key, timeoutMs);
  },
};

/**
 * Every rank's value (JSON-serialisable), in rank order, as torch.distributed.all_gather_object:
 * the JSON travels as bytes, padded to the longest rank's length.
 */
export function allGatherObject<T>(value: T): T[] {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const length = fromTypedArray(Float64Array.of(bytes.length), [1]);
  const lengths = allGather(length);
  length.dispose();
  const sizes = Array.from(lengths.data<'float64'>());
  lengths.dispose();
  const longest = Math.max(...sizes);
  const padded = new Uint8Array(longest);
  padded.set(bytes);
  const mine = fromTypedArray(padded, [longest]);
  const gathered = allGather(mine);
  mine.dispose();
  const all = gathered.data<'uint8'>();
  gathered.dispose();
  const decoder = new TextDecoder();
  return sizes.map((size, rank) => JSON.parse(decoder.decode(all.subarray(rank * longest, rank * longest + size))) as T);
}

/**
 * DDP's gradient Reducer over `params`: each backward then all-reduces and averages their
 * gradients in buckets launched while the rest of backward still runs. Per step: prepareForward()
 * before the forward, prepareBackward() between the loss and loss.backward().
 */
export class GradientReducer {
  private attached = true;
  constructor(params: Tensor[], { bucketCapMb = 25 }: { bucketCapMb?: number } = {}) {
    if (!(bucketCapMb > 0)) throw new Error(`GradientReducer: bucketCapMb must be positive, got ${bucketCapMb}`);
    native.distReducerAttach(params.map((p) => p.handle), Math.round(bucketCapMb * 2 ** 20));
  }
  prepareForward(): void {
    native.distReducerPrepareForward();
  }
  prepareBackward(): void {
    native.distReducerPrepareBackward();
  }
  /** The buckets' sizes in bytes: one bucket before the first step, then grouped by gradient arrival. */
  bucketBytes(): number[] {
    return native.distReducerBucketBytes();
  }
  detach(): void {
    if (!this.attached) return;
    this.attached = false;
    native.distReducerDetach();
  }
}
