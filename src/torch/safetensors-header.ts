// Reads and checks a safetensors header before any tensor is made. A file is refused unless its
// tensors tile the data section exactly, as the reference reader (huggingface/safetensors) insists:
// no overlaps, no gaps, nothing past the end or after the last tensor, and each tensor's byte
// count equal to its dtype's size times its shape. A weights file that is off by one byte is
// damaged, and a clinician's prediction must not be computed from it.
import { dtypeOfSafetensorsCode, itemSize, type DType } from './dtype.js';

const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends Error {}

export interface HeaderEntry {
  name: string;
  dtype: DType;
  shape: number[];
  /** Byte range [begin, end) inside the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Where the data section starts in the file: 8 + the header's length. */
  dataStart: number;
  metadata: Record<string, string>;
  /** Entries in data order. */
  entries: HeaderEntry[];
}

/** Parses and validates the header of safetensors bytes; every problem names `source`. */
export function readSafetensorsHeader(bytes: Uint8Array, source: string): SafetensorsHeader {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source} is not a valid safetensors file: ${why}`);
  };
  if (bytes.byteLength < 8) fail(`only ${bytes.byteLength} bytes long`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > bytes.byteLength) fail(`header length ${headerLength} runs past the end of the file (${bytes.byteLength} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8'));
  } catch (err) {
    return fail(`header is not JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const metadata = header.__metadata__ ?? {};
  if (!isPlainObject(metadata) || Object.values(metadata).some((v) => typeof v !== 'string')) {
    fail(`__metadata__ must map names to strings, got ${JSON.stringify(metadata).slice(0, 200)}`);
  }
  const entries: HeaderEntry[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (!isPlainObject(entry)) return fail(`tensor "${name}" is described by ${JSON.stringify(entry)}, not an object`);
    const dtype = dtypeOfSafetensorsCode(String(entry.dtype));
    if (!dtype) return fail(`tensor "${name}" has unsupported dtype ${JSON.stringify(entry.dtype)}`);
    const shape = entry.shape;
    if (!Array.isArray(shape) || shape.some((d: unknown) => !Number.isInteger(d) || (d as number) < 0)) return fail(`tensor "${name}" has a bad shape ${JSON.stringify(shape)}`);
    const [begin, end] = Array.isArray(entry.data_offsets) ? entry.data_offsets : [];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end < begin || end > dataLength) {
      fail(`tensor "${name}" has data_offsets ${JSON.stringify(entry.data_offsets)} outside the ${dataLength} data bytes (truncated file?)`);
    }
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * itemSize(dtype);
    if (end - begin !== expected) fail(`tensor "${name}" of shape [${shape}] ${dtype} needs ${expected} bytes but has ${end - begin}`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  checkTiling(entries, dataLength, fail);
  return { dataStart, metadata: metadata as Record<string, string>, entries };
}

/** The entries, sorted by offset, must cover [0, dataLength) once each. */
function checkTiling(entries: HeaderEntry[], dataLength: number, fail: (why: string) => never): void {
  let covered = 0;
  let previous: HeaderEntry | null = null;
  for (const entry of entries) {
    if (entry.begin < covered) {
      fail(`tensor "${entry.name}" bytes [${entry.begin}, ${entry.end}) overlap tensor "${previous!.name}" bytes [${previous!.begin}, ${previous!.end})`);
    }
    if (entry.begin > covered) fail(`data bytes [${covered}, ${entry.begin}) belong to no tensor (a gap before tensor "${entry.name}")`);
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength) fail(`${dataLength - covered} data bytes after the last tensor belong to no tensor`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
