// The small dense linear algebra a Gaussian out-of-distribution score needs: a covariance shrunk
// towards a multiple of the identity (Ledoit & Wolf 2004, the estimate scikit-learn's LedoitWolf
// gives) and its inverse by Cholesky. Embeddings have ~100–500 dimensions and a training split may
// hold fewer images than that, where the sample covariance is singular: shrinkage keeps it
// invertible and well conditioned without a hand-tuned ridge.

/** A square matrix, row-major, n × n. */
export interface SquareMatrix {
  n: number;
  values: Float64Array;
}

/**
 * The Ledoit–Wolf estimate from already-centred rows (m rows of length n, row-major):
 * (1 − s)·S + s·μ·I with S = XᵀX / m, μ = tr(S) / n and s the analytic shrinkage in [0, 1].
 */
export function ledoitWolfCovariance(centred: Float64Array, rows: number, n: number): { covariance: SquareMatrix; shrinkage: number } {
  if (rows < 1 || centred.length !== rows * n) throw new Error(`ledoitWolfCovariance: expected ${rows} rows of ${n} values, got ${centred.length} values`);
  const s = new Float64Array(n * n);
  const squares = new Float64Array(n * n);
  for (let r = 0; r < rows; r++) {
    const row = centred.subarray(r * n, (r + 1) * n);
    for (let i = 0; i < n; i++) {
      const xi = row[i];
      if (xi === 0) continue;
      const xi2 = xi * xi;
      for (let j = i; j < n; j++) {
        s[i * n + j] += xi * row[j];
        squares[i * n + j] += xi2 * row[j] * row[j];
      }
    }
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += s[i * n + i];
  const mu = trace / rows / n;
  // β̄ = Σ_ij Σ_k x_ki² x_kj² / m², δ̄ = Σ_ij S_ij²: both over the full symmetric matrix.
  let betaSum = 0;
  let deltaSum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const weight = i === j ? 1 : 2;
      const sij = s[i * n + j] / rows;
      betaSum += weight * squares[i * n + j];
      deltaSum += weight * sij * sij;
    }
  }
  const beta = (betaSum / rows - deltaSum) / (n * rows);
  const delta = (deltaSum - 2 * mu * trace / rows + n * mu * mu) / n;
  const shrinkage = delta <= 0 ? 1 : Math.max(0, Math.min(1, Math.min(beta, delta) / delta));
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const shrunk = (1 - shrinkage) * (s[i * n + j] / rows) + (i === j ? shrinkage * mu : 0);
      values[i * n + j] = shrunk;
      values[j * n + i] = shrunk;
    }
  }
  return { covariance: { n, values }, shrinkage };
}

/** The inverse of a symmetric positive definite matrix by Cholesky; throws when it is not positive definite. */
export function invertPositiveDefinite({ n, values }: SquareMatrix): SquareMatrix {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diagonal = values[j * n + j];
    for (let k = 0; k < j; k++) diagonal -= l[j * n + k] * l[j * n + k];
    if (!(diagonal > 0)) throw new Error(`invertPositiveDefinite: the matrix is not positive definite (pivot ${j} is ${diagonal})`);
    const ljj = Math.sqrt(diagonal);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let sum = values[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = sum / ljj;
    }
  }
  // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
  const inverseL = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    inverseL[i * n + i] = 1 / l[i * n + i];
    for (let j = 0; j < i; j++) {
      let sum = 0;
      for (let k = j; k < i; k++) sum += l[i * n + k] * inverseL[k * n + j];
      inverseL[i * n + j] = -sum / l[i * n + i];
    }
  }
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = j; k < n; k++) sum += inverseL[k * n + i] * inverseL[k * n + j];
      inverse[i * n + j] = sum;
      inverse[j * n + i] = sum;
    }
  }
  return { n, values: inverse };
}

/** (x − m)ᵀ P (x − m) for a symmetric P. */
export function quadraticForm(x: ArrayLike<number>, mean: ArrayLike<number>, precision: SquareMatrix): number {
  const { n, values } = precision;
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) d[i] = x[i] - mean[i];
  let total = 0;
  for (let i = 0; i < n; i++) {
    let row = 0;
    for (let j = 0; j < n; j++) row += values[i * n + j] * d[j];
    total += d[i] * row;
  }
  return total;
}
