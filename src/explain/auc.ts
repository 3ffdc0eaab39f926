// Area under a sampled curve by the trapezoid rule.
export function trapezoidAuc(xs: number[], ys: number[]): number {
  if (xs.length !== ys.length || xs.length < 2) throw new Error(`trapezoidAuc: need two or more points with matching x and y, got ${xs.length} and ${ys.length}`);
  let area = 0;
  for (let i = 1; i < xs.length; i++) area += ((xs[i] - xs[i - 1]) * (ys[i] + ys[i - 1])) / 2;
  return area;
}
