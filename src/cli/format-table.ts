// Plain aligned text tables for the terminal: columns of numbers right-aligned, text left-aligned.
const NUMERIC = /^[-+]?(\d[\d,]*\.?\d*|—)%?$/;

export function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? '').length)));
  const right = header.map((_, c) => c > 0 && rows.length > 0 && rows.every((row) => (row[c] ?? '') === '' || NUMERIC.test(row[c])));
  const line = (row: string[]) => row.map((cell, c) => (right[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
