import type { BootstrapIntervals, Interval } from '../eval/index.js';

/** Number formats used across the report, so one metric reads the same everywhere. */
export function formatPercent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}%`;
}

export function formatFixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '—' : value.toFixed(digits);
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

export type MetricScale = 'percent' | 'fixed';

/** "95% CI 94.9–97.6": bounds in the estimate's scale, the unit left to the estimate beside it. */
export function formatInterval(interval: Interval, level: number, scale: MetricScale, digits = scale === 'percent' ? 1 : 3): string {
  const format = (v: number) => (scale === 'percent' ? v * 100 : v).toFixed(digits);
  return `${formatLevel(level)} CI ${format(interval.low)}\u2013${format(interval.high)}`;
}

/** "96.4% (95% CI 94.9–97.6)"; without an interval (bootstrap off, or a class absent) the estimate alone. */
export function formatWithInterval(value: number | null | undefined, interval: Interval | null | undefined, level: number | undefined, scale: MetricScale, digits = scale === 'percent' ? 1 : 3): string {
  const estimate = scale === 'percent' ? formatPercent(value, digits) : formatFixed(value, digits);
  if (value === null || value === undefined || !interval || level === undefined) return estimate;
  return `${estimate} (${formatInterval(interval, level, scale, digits)})`;
}

/** 0.95 → "95%". */
export function formatLevel(level: number): string {
  return `${Number((level * 100).toFixed(1))}%`;
}

/** How the intervals were made, for a caption: "95% CIs: percentile bootstrap, 1,000 resamples of 72 patients, seed 0". */
export function describeIntervals(intervals: BootstrapIntervals): string {
  return `${formatLevel(intervals.level)} CIs: percentile bootstrap, ${formatCount(intervals.resamples)} resamples of the ${formatCount(intervals.units)} ${intervals.unit}s (seed ${intervals.seed})`;
}
