// The safetensors format (github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then raw little-endian
// data. Python's `safetensors.torch.load_file` and aplnet read each other's files.
// aplnet adds one thing, inside the format: a SHA-256 of the data section in __metadata__, so that
// weights changed or damaged after they were written are refused by name instead of predicting.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/index.js';
import { fromTypedArray } from './creation.js';
import { safetensorsCode, typedArrayOf } from './dtype.js';
import { readSafetensorsHeader, SafetensorsError } from './safetensors-header.js';
import type { Tensor } from './tensor.js';

export { SafetensorsError } from './safetensors-header.js';

/** The __metadata__ key holding the hex SHA-256 of everything after the header. */
export const CHECKSUM_KEY = 'aplnet.sha256';

export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  /** The metadata the writer gave, without aplnet's checksum. */
  metadata: Record<string, string>;
  /** Whether the file carried a checksum (which then matched: a mismatch throws). */
  checksumVerified: boolean;
}

export interface LoadSafetensorsOptions {
  /**
   * Refuse a file without aplnet's checksum. Off by default so that files written by Python
   * load; a run folder's weights, which aplnet always writes, are loaded with it on.
   */
  requireChecksum?: boolean;
}

/** Encodes named tensors (any device) into safetensors bytes, names sorted as the reference does. */
export function encodeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  if (CHECKSUM_KEY in metadata) throw new SafetensorsError(`metadata key "${CHECKSUM_KEY}" is aplnet's checksum, which the writer computes itself; use another key`);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new SafetensorsError(`metadata "${key}" is a ${typeof value}; safetensors metadata holds strings only (use String(value))`);
  }
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const described: Record<string, unknown> = {};
  const bodies: Uint8Array[] = [];
  const hash = createHash('sha256');
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named "__metadata__": safetensors keeps the file\'s metadata under that name');
    const data = t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    described[name] = { dtype: safetensorsCode(t.dtype), shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    bodies.push(bytes);
    hash.update(bytes);
    offset += bytes.byteLength;
  }
  const header = { __metadata__: { ...metadata, [CHECKSUM_KEY]: hash.digest('hex') }, ...described };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // keep the data 8-byte aligned, as the reference writer does
  const jsonBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(jsonBytes.byteLength));
  return [prefix, jsonBytes, ...bodies];
}

/** Writes named tensors to a .safetensors file atomically, with aplnet's checksum in its metadata. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Parses safetensors bytes; every malformed part, and a checksum that does not match, is a SafetensorsError naming `source`. */
export function decodeSafetensors(bytes: Uint8Array, source: string, device = 'cpu', { requireChecksum = false }: LoadSafetensorsOptions = {}): SafetensorsContent {
  const { dataStart, metadata, entries } = readSafetensorsHeader(bytes, source);
  const { [CHECKSUM_KEY]: checksum, ...written } = metadata;
  if (checksum !== undefined) {
    const actual = createHash('sha256').update(bytes.subarray(dataStart)).digest('hex');
    if (actual !== checksum) {
      throw new SafetensorsError(`${source}: checksum mismatch: the weights were changed or damaged after they were written; retrain or restore the file`);
    }
  } else if (requireChecksum) {
    throw new SafetensorsError(`${source} has no "${CHECKSUM_KEY}" checksum: it was not written by this version of aplnet, so its weights cannot be checked; restore the file aplnet wrote, or retrain`);
  }
  const tensors = new Map<string, Tensor>();
  try {
    for (const { name, dtype, shape, begin, end } of entries) {
      // Copy into a fresh buffer: typed arrays need their element alignment.
      const raw = new Uint8Array(end - begin);
      raw.set(bytes.subarray(dataStart + begin, dataStart + end));
      tensors.set(name, fromTypedArray(typedArrayOf(dtype, raw.buffer), shape, { dtype, device }));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata: written, checksumVerified: checksum !== undefined };
}

/** Reads a .safetensors file onto a device, verifying aplnet's checksum whenever it is there. */
export function loadSafetensors(path: string, device = 'cpu', options: LoadSafetensorsOptions = {}): SafetensorsContent {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return decodeSafetensors(bytes, path, device, options);
}
