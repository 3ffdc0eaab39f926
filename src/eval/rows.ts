/**
 * Probability and logit tables are passed around as rows (one per image, one column per
 * class) of plain numbers, so this layer stays free of any tensor engine: a caller holding a
 * flat N×C buffer from the engine converts it once with `rowsFromFlat`.
 */
export type Rows = ReadonlyArray<ArrayLike<number>>;

/** Splits a flat row-major N×C buffer into N row views (no copy). */
export function rowsFromFlat(flat: Float32Array | Float64Array | readonly number[], numClasses: number): Float64Array[] {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new Error(`rowsFromFlat: numClasses must be an integer ≥ 2, got ${numClasses}`);
  }
  if (flat.length % numClasses !== 0) {
    throw new Error(`rowsFromFlat: buffer length ${flat.length} is not a multiple of numClasses ${numClasses}`);
  }
  const data = flat instanceof Float64Array ? flat : Float64Array.from(flat);
  const rows: Float64Array[] = [];
  for (let start = 0; start < data.length; start += numClasses) rows.push(data.subarray(start, start + numClasses));
  return rows;
}

/** Index of the largest value; the first one wins a tie, as torch.argmax and numpy do. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
  return best;
}

export function predictedClasses(probs: Rows): number[] {
  return probs.map(argmax);
}

/** Largest probability of each row: the model's confidence in its own prediction. */
export function confidences(probs: Rows): number[] {
  return probs.map((row) => row[argmax(row)]);
}
