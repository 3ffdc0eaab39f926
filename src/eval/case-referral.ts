// The case referral threshold: the lowest case probability at which a call may go out unreferred.
// Fitted on calls made without the cases they are judged on (out-of-fold calls of the case model,
// or a baseline's calls on the validation cases), so that no such call at or above it was wrong:
// a lab signs out unreviewed only the confidence at which the fit never saw an error. It never
// falls below `floor` (the cell model's referral threshold), and when a wrong call was as sure as
// a call can be, every call is referred.

export interface CaseReferralFit {
  /** Refer a call whose probability is below this; 1 refers every call. */
  threshold: number;
  /** Calls the fit read. */
  cases: number;
  /** Of them, wrong. */
  errors: number;
  /** The probability of the surest wrong call (null: none was wrong). */
  surestWrong: number | null;
  /** Of the calls read, how many the threshold refers. */
  referred: number;
}

/** The next double above `x` (x finite, ≥ 0). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const bits = new BigUint64Array(new Float64Array([x]).buffer);
  bits[0] += 1n;
  return new Float64Array(bits.buffer)[0];
}

/** Whether a case call of probability `p` is referred under `threshold` (1 refers every call). */
export function caseCallReferred(p: number, threshold: number): boolean {
  return !(p >= threshold) || threshold >= 1;
}

/**
 * Fits the threshold on calls (`probabilities[i]` case i's class probabilities; its call is the
 * class `called[i]`) against their labels: just above the surest wrong call, at least `floor`.
 */
export function fitCaseReferralThreshold(probabilities: readonly (readonly number[])[], called: readonly number[], labels: readonly number[], floor: number): CaseReferralFit {
  const n = probabilities.length;
  if (called.length !== n || labels.length !== n) throw new Error(`fitCaseReferralThreshold: ${n} probability rows, ${called.length} calls and ${labels.length} labels must all be equal`);
  if (!(floor >= 0 && floor <= 1)) throw new Error(`fitCaseReferralThreshold: the floor must be a share in [0, 1], got ${floor}`);
  let surestWrong: number | null = null;
  let errors = 0;
  const top = probabilities.map((row, i) => {
    const p = row[called[i]];
    if (!Number.isFinite(p) || p < 0 || p > 1) throw new Error(`fitCaseReferralThreshold: case ${i}'s call has probability ${p}, not a share in [0, 1]`);
    if (called[i] !== labels[i]) {
      errors++;
      surestWrong = Math.max(surestWrong ?? 0, p);
    }
    return p;
  });
  const threshold = surestWrong === null ? floor : Math.max(floor, Math.min(1, nextUp(surestWrong)));
  return { threshold, cases: n, errors, surestWrong, referred: top.filter((p) => caseCallReferred(p, threshold)).length };
}
