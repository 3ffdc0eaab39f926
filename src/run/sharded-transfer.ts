// How ranks hand each other what they computed. Results are JSON-like values holding typed arrays
// (an image's pixels, its maps, its embedding) and numbers that JSON cannot say (an out-of-
// distribution score of NaN, an Inf): they travel as one byte string, a JSON header with every
// typed array moved into a binary tail and every non-finite number (and -0) spelled out, so what
// arrives is bit for bit what was sent. The bytes go through c10d's allgather in chunks, so no
// single collective carries more than CHUNK_BYTES per rank whatever the size of a shard.
import { allGather, fromTypedArray } from '../torch/index.js';

const CHUNK_BYTES = 32 * 2 ** 20;

type TypedArray = Float32Array | Float64Array | Uint8Array | Int32Array | Uint16Array | Int16Array | Int8Array | Uint32Array;
const TYPED: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => TypedArray> = {
  Float32Array, Float64Array, Uint8Array, Int32Array, Uint16Array, Int16Array, Int8Array, Uint32Array,
};
const TYPED_KEY = '$aplnetTyped';
const NUMBER_KEY = '$aplnetNumber';

/** `value` as bytes: [4-byte header length][JSON header][8-byte aligned typed-array payloads]. */
export function encodeValue(value: unknown): Uint8Array {
  const parts: { bytes: Uint8Array; offset: number }[] = [];
  let tail = 0;
  const header = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { [NUMBER_KEY]: Object.is(v, -0) ? '-0' : String(v) };
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const name = v.constructor.name;
      if (!(name in TYPED)) throw new Error(`encodeValue: cannot send a ${name}`);
      const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const offset = tail;
      parts.push({ bytes, offset });
      tail = offset + Math.ceil(bytes.byteLength / 8) * 8;
      return { [TYPED_KEY]: name, offset, length: (v as TypedArray).length };
    }
    return v;
  });
  const head = new TextEncoder().encode(header ?? 'null');
  const start = Math.ceil((4 + head.byteLength) / 8) * 8;
  const out = new Uint8Array(start + tail);
  new DataView(out.buffer).setUint32(0, head.byteLength, true);
  out.set(head, 4);
  for (const part of parts) out.set(part.bytes, start + part.offset);
  return out;
}

/** The value encodeValue was given (typed arrays are fresh copies that own their memory). */
export function decodeValue<T>(bytes: Uint8Array): T {
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const header = new TextDecoder().decode(bytes.subarray(4, 4 + length));
  const start = Math.ceil((4 + length) / 8) * 8;
  return JSON.parse(header, (_key, v: unknown) => {
    if (v && typeof v === 'object' && NUMBER_KEY in v) return Number((v as Record<string, string>)[NUMBER_KEY]);
    if (v && typeof v === 'object' && TYPED_KEY in v) {
      const { [TYPED_KEY]: name, offset, length: count } = v as { [TYPED_KEY]: string; offset: number; length: number };
      const Type = TYPED[name];
      if (!Type) throw new Error(`decodeValue: unknown array type ${name}`);
      const size = (Type as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT * count;
      const copy = new Uint8Array(size);
      copy.set(bytes.subarray(start + offset, start + offset + size));
      return new Type(copy.buffer, 0, count);
    }
    return v;
  }) as T;
}

/** Every rank's bytes, in rank order (a collective: every rank of the world calls it). */
export function allGatherBytes(mine: Uint8Array, worldSize: number): Uint8Array[] {
  const lengthTensor = fromTypedArray(Float64Array.of(mine.byteLength), [1]);
  const lengthsTensor = allGather(lengthTensor);
  lengthTensor.dispose();
  const lengths = Array.from(lengthsTensor.data<'float64'>());
  lengthsTensor.dispose();
  if (lengths.length !== worldSize) throw new Error(`allGatherBytes: expected ${worldSize} ranks, the group has ${lengths.length}`);
  const out = lengths.map((n) => new Uint8Array(n));
  const longest = Math.max(0, ...lengths);
  for (let from = 0; from < longest; from += CHUNK_BYTES) {
    const size = Math.min(CHUNK_BYTES, longest - from);
    const chunk = new Uint8Array(size);
    chunk.set(mine.subarray(from, Math.min(from + size, mine.byteLength)));
    const sent = fromTypedArray(chunk, [size]);
    const gathered = allGather(sent);
    sent.dispose();
    const all = gathered.data<'uint8'>();
    gathered.dispose();
    lengths.forEach((n, rank) => {
      if (from < n) out[rank].set(all.subarray(rank * size, rank * size + Math.min(size, n - from)), from);
    });
  }
  return out;
}

/** Every rank's value, in rank order (see encodeValue for what survives the trip). */
export function allGatherValues<T>(mine: T, worldSize: number): T[] {
  return allGatherBytes(encodeValue(mine), worldSize).map((bytes) => decodeValue<T>(bytes));
}
