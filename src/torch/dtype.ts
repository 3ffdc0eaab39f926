// aplnet's dtypes, all from one table: native/ops.json lists each dtype's bytes per element,
// safetensors code and JS typed array, and the build generates both the addon's dtype switch and
// DTYPE_TABLE from it. Tensor, creation and safetensors ask this file instead of keeping lists.
import { DTYPE_TABLE, type DType } from './native-api.generated.js';

export type { DType };
type Row = (typeof DTYPE_TABLE)[number];
/** The typed array that holds a dtype's values (16-bit floats as their raw Uint16 bits). */
export type TypedArrayFor<D extends DType> = Extract<Row, { name: D }>['array']['prototype'];
/** Any typed array some dtype is held in. */
export type DTypeArray = Row['array']['prototype'];

const byName = new Map<string, Row>(DTYPE_TABLE.map((row) => [row.name, row]));
const bySafetensorsCode = new Map<string, Row>(DTYPE_TABLE.map((row) => [row.safetensors, row]));

export const DTYPES: readonly DType[] = DTYPE_TABLE.map((row) => row.name);

export function isDType(value: string): value is DType {
  return byName.has(value);
}

function row(dtype: DType): Row {
  const found = byName.get(dtype);
  if (!found) throw new Error(`unknown dtype '${dtype}' (use ${DTYPES.join(', ')})`);
  return found;
}

/** Bytes per element. */
export const itemSize = (dtype: DType): number => row(dtype).itemSize;
/** The safetensors name of a dtype (F32, BF16, I64, ...). */
export const safetensorsCode = (dtype: DType): string => row(dtype).safetensors;
/** The dtype a safetensors name stands for, or undefined when aplnet does not know it. */
export const dtypeOfSafetensorsCode = (code: string): DType | undefined => bySafetensorsCode.get(code)?.name;

/** The typed-array constructor that holds a dtype's values. */
export const arrayTypeOf = (dtype: DType): Row['array'] => row(dtype).array;

/** A 16-bit float is held as its raw bits: JS numbers go in and come out through float32. */
export const holdsRawBits = (dtype: DType): boolean => row(dtype).rawBits;

/** Views an ArrayBuffer (aligned for the dtype) as the dtype's typed array, without copying. */
export function typedArrayOf<D extends DType>(dtype: D, buffer: ArrayBuffer): TypedArrayFor<D> {
  const ArrayType = arrayTypeOf(dtype);
  return new ArrayType(buffer) as TypedArrayFor<D>;
}

/**
 * The dtype a typed array stands for when the array says it: Float32Array → float32,
 * BigInt64Array → int64, Uint8Array → uint8 (bool must be asked for). An array that holds raw
 * bits (Uint16Array: bfloat16 or float16) gives undefined, and the caller must name the dtype.
 */
export function dtypeOfArray(data: DTypeArray): DType | undefined {
  const rows = DTYPE_TABLE.filter((r) => data instanceof r.array);
  if (rows.some((r) => r.rawBits)) return undefined;
  if (rows.length === 1) return rows[0].name;
  return rows.find((r) => r.name === 'uint8')?.name;
}
