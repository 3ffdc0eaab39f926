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
