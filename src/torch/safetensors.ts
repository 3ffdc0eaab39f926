// The safetensors format (github.com/huggingface/safetensors): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then raw little-endian
// data. Python's `safetensors.torch.load_file` and aplnet read each other's files.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import { fromTypedArray } from './creation.js';
import { Tensor, type DType } from './tensor.js';

const TO_SAFE: Record<string, string> = { float32: 'F32', float64: 'F64', bfloat16: 'BF16', float16: 'F16', uint8: 'U8', int32: 'I32', int64: 'I64', bool: 'BOOL' };
const FROM_SAFE: Record<string, DType> = Object.fromEntries(Object.entries(TO_SAFE).map(([k, v]) => [v, k as DType]));
const ITEM_SIZE: Record<DType, number> = { float32: 4, float64: 8, bfloat16: 2, float16: 2, uint8: 1, int32: 4, int64: 8, bool: 1 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {}

export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Encodes named tensors (any device) into safetensors bytes, names sorted as the reference does. */
export function encodeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array[] {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const bodies: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    const dtype = TO_SAFE[t.dtype];
    if (!dtype) throw new SafetensorsError(`tensor "${name}" has dtype ${t.dtype}, which safetensors cannot store`);
    const data = t.data();
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    bodies.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // keep the data 8-byte aligned, as the reference writer does
  const jsonBytes = Buffer.from(json, 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(jsonBytes.byteLength));
  return [prefix, jsonBytes, ...bodies];
}

/** Writes named tensors to a .safetensors file atomically. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor> | Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Parses safetensors bytes; every malformed part is a SafetensorsError naming `source`. */
export function decodeSafetensors(bytes: Uint8Array, source: string, device = 'cpu'): SafetensorsContent {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source} is not a valid safetensors file: ${why}`);
  };
  if (bytes.byteLength < 8) fail(`only ${bytes.byteLength} bytes long`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength) fail(`header length ${headerLength} runs past the end of the file (${bytes.byteLength} bytes)`);
  let header: any;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const metadata: Record<string, string> = header.__metadata__ ?? {};
  const tensors = new Map<string, Tensor>();
  try {
    for (const [name, entry] of Object.entries<any>(header)) {
      if (name === '__metadata__') continue;
      const dtype = FROM_SAFE[entry?.dtype];
      if (!dtype) fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(entry?.dtype)}`);
      const shape = entry.shape;
      if (!Array.isArray(shape) || shape.some((d: unknown) => !Number.isInteger(d) || (d as number) < 0)) fail(`tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
      const [begin, end] = entry.data_offsets ?? [];
      if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
        fail(`tensor "${name}" has data_offsets ${JSON.stringify(entry.data_offsets)} outside the ${dataLength} data bytes (truncated file?)`);
      }
      const expected = shape.reduce((a: number, b: number) => a * b, 1) * ITEM_SIZE[dtype];
      if (end - begin !== expected) fail(`tensor "${name}" of shape [${shape}] ${dtype} needs ${expected} bytes but has ${end - begin}`);
      // Copy into an aligned buffer: typed arrays need their element alignment.
      const raw = new Uint8Array(expected);
      raw.set(bytes.subarray(dataStart + begin, dataStart + end));
      const typed = dtype === 'float32' ? new Float32Array(raw.buffer) : dtype === 'float64' ? new Float64Array(raw.buffer)
        : dtype === 'int64' ? new BigInt64Array(raw.buffer) : dtype === 'int32' ? new Int32Array(raw.buffer)
          : dtype === 'uint8' || dtype === 'bool' ? raw : new Uint16Array(raw.buffer);
      tensors.set(name, fromTypedArray(typed, shape, { dtype, device }));
    }
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { tensors, metadata };
}

/** Reads a .safetensors file onto a device. */
export function loadSafetensors(path: string, device = 'cpu'): SafetensorsContent {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SafetensorsError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return decodeSafetensors(bytes, path, device);
}
