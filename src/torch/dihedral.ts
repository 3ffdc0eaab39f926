// The dihedral group D4 of a square image: four rotations by 90° with and without a mirror, the
// eight ways to lay a smear cell down. A cell has no up, down, left or right, so test-time
// augmentation shows the model all eight and averages: the average is the same whichever of the
// eight the input arrived in (exactly, up to float rounding), and each view's map, turned back to
// the input's orientation, averages into a map that turns with the input.
import { cat } from './functional.js';
import { tidy } from './scope.js';
import type { Tensor } from './tensor.js';

/** Mirror left-right first (when `mirrored`), then rotate by 90° × `quarterTurns` in the image plane. */
export interface DihedralView {
  quarterTurns: 0 | 1 | 2 | 3;
  mirrored: boolean;
}

export const DIHEDRAL_VIEWS: readonly DihedralView[] = [false, true].flatMap((mirrored) => ([0, 1, 2, 3] as const).map((quarterTurns) => ({ quarterTurns, mirrored })));

const PLANE: [number, number] = [2, 3];

function checkSquare(x: Tensor): void {
  if (x.ndim !== 4 || x.shape[2] !== x.shape[3]) throw new Error(`dihedral views need square images [N, C, H, W] with H = W, got [${x.shape.join(', ')}]`);
}

/** The view of images [N, C, H, W]; a new tensor the caller disposes. */
export function applyView(x: Tensor, view: DihedralView): Tensor {
  checkSquare(x);
  return tidy(() => {
    const mirrored = view.mirrored ? x.flip(3) : x;
    return view.quarterTurns === 0 ? mirrored.clone() : mirrored.rot90(view.quarterTurns, PLANE);
  });
}

/** Turns a view (or a map computed on it) back to the original orientation: the inverse of applyView. */
export function undoView(x: Tensor, view: DihedralView): Tensor {
  checkSquare(x);
  return tidy(() => {
    const unrotated = view.quarterTurns === 0 ? x : x.rot90(4 - view.quarterTurns, PLANE);
    return view.mirrored ? unrotated.flip(3) : unrotated.clone();
  });
}

/** All eight views of [N, C, H, W] in one batch [8N, C, H, W], view-major: row v·N + i is view v of image i. */
export function dihedralBatch(x: Tensor): Tensor {
  return tidy(() => cat(DIHEDRAL_VIEWS.map((view) => applyView(x, view)), 0));
}

/** Maps [8N, 1, H, W] of a dihedralBatch, each turned back to its image's orientation and averaged: [N, 1, H, W]. */
export function meanOfViewMaps(maps: Tensor): Tensor {
  const views = DIHEDRAL_VIEWS.length;
  const n = maps.shape[0] / views;
  if (!Number.isInteger(n)) throw new Error(`${maps.shape[0]} maps are not ${views} views of the same images`);
  return tidy(() => {
    let sum: Tensor | null = null;
    DIHEDRAL_VIEWS.forEach((view, v) => {
      const back = undoView(maps.slice(0, v * n, (v + 1) * n), view);
      sum = sum === null ? back : sum.add(back);
    });
    return sum!.div(views);
  });
}

/** Rows [8N, D] of a dihedralBatch, view-major, averaged over the views: [N, D] (logits, embeddings). */
export function meanOfViewRows(rows: Float32Array, width: number): Float32Array {
  const views = DIHEDRAL_VIEWS.length;
  const n = rows.length / (views * width);
  if (!Number.isInteger(n)) throw new Error(`${rows.length / width} rows are not ${views} views of the same images`);
  const mean = new Float32Array(n * width);
  for (let v = 0; v < views; v++) {
    const block = rows.subarray(v * n * width, (v + 1) * n * width);
    for (let j = 0; j < block.length; j++) mean[j] += block[j] / views;
  }
  return mean;
}
