// Mahalanobis distance to the nearest class (Lee et al., NeurIPS 2018): class means of the training
// embeddings and one covariance shared by the classes, shrunk (Ledoit–Wolf). An image far from
// every class, in the metric the training images define, is unlike anything the model learned.
import { invertPositiveDefinite, ledoitWolfCovariance, quadraticForm, type SquareMatrix } from './ood-linear-algebra.js';

export interface ClassGaussians {
  /** Feature length. */
  dim: number;
  /** One mean per class, each of length dim. */
  means: Float64Array[];
  /** Inverse of the shared, shrunk covariance. */
  precision: SquareMatrix;
  /** The Ledoit–Wolf shrinkage used, in [0, 1]. */
  shrinkage: number;
}

export interface GaussianFitOptions {
  /** A fixed shrinkage in [0, 1] instead of the Ledoit–Wolf estimate (for tests and hand checks). */
  shrinkage?: number;
}

/**
 * Fits class means and the shared covariance of `features` (rows × dim, row-major) with class
 * `labels`. A class with no image gets no mean (it cannot be near anything it never saw); at least
 * one image in total is needed.
 */
export function fitClassGaussians(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number, numClasses: number, options: GaussianFitOptions = {}): ClassGaussians {
  const rows = labels.length;
  if (rows < 1) throw new Error('fitClassGaussians: no images to fit on');
  if (features.length !== rows * dim) throw new Error(`fitClassGaussians: ${rows} labels but ${features.length} values for ${dim}-dimensional features`);
  const sums = Array.from({ length: numClasses }, () => new Float64Array(dim));
  const counts = new Array<number>(numClasses).fill(0);
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) throw new Error(`fitClassGaussians: label ${label} of row ${r} is not a class index below ${numClasses}`);
    counts[label]++;
    for (let i = 0; i < dim; i++) {
      const value = features[r * dim + i];
      if (!Number.isFinite(value)) throw new Error(`fitClassGaussians: feature ${i} of row ${r} is ${value}, not a finite number`);
      sums[label][i] += value;
    }
  }
  const means: (Float64Array | null)[] = sums.map((sum, k) => (counts[k] > 0 ? sum.map((value) => value / counts[k]) : null));
  const centred = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const mean = means[labels[r]]!;
    for (let i = 0; i < dim; i++) centred[r * dim + i] = features[r * dim + i] - mean[i];
  }
  const { covariance, shrinkage } = options.shrinkage === undefined
    ? ledoitWolfCovariance(centred, rows, dim)
    : { covariance: shrinkTo(centred, rows, dim, options.shrinkage), shrinkage: options.shrinkage };
  // A ridge of 1e-9 of the mean variance keeps a degenerate fit (every image alike, e.g. a collapsed
  // model) invertible: it then flags whatever differs, instead of failing at the end of training.
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += covariance.values[i * dim + i];
  const ridge = 1e-9 * (trace > 0 ? trace / dim : 1);
  for (let i = 0; i < dim; i++) covariance.values[i * dim + i] += ridge;
  return { dim, means: means.filter((mean): mean is Float64Array => mean !== null), precision: invertPositiveDefinite(covariance), shrinkage };
}

/** (1 − s)·S + s·(tr S / n)·I for a given s. */
function shrinkTo(centred: Float64Array, rows: number, dim: number, shrinkage: number): SquareMatrix {
  if (!(shrinkage >= 0 && shrinkage <= 1)) throw new Error(`fitClassGaussians: shrinkage must be in [0, 1], got ${shrinkage}`);
  const values = new Float64Array(dim * dim);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) values[i * dim + j] += (centred[r * dim + i] * centred[r * dim + j]) / rows;
  }
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += values[i * dim + i];
  for (let k = 0; k < values.length; k++) values[k] *= 1 - shrinkage;
  for (let i = 0; i < dim; i++) values[i * dim + i] += (shrinkage * trace) / dim;
  return { n: dim, values };
}

/** The squared Mahalanobis distance from `x` to the nearest class mean: larger means less like the training images. */
export function nearestClassMahalanobis(gaussians: ClassGaussians, x: ArrayLike<number>): number {
  if (x.length !== gaussians.dim) throw new Error(`nearestClassMahalanobis: expected ${gaussians.dim} features, got ${x.length}`);
  let best = Infinity;
  for (const mean of gaussians.means) best = Math.min(best, quadraticForm(x, mean, gaussians.precision));
  return best;
}
