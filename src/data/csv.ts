/** A CSV record and the line of the file it starts on (1-based), for messages that name it. */
export interface CsvRow {
  line: number;
  cells: string[];
}

export function parseCsv(text: string): string[][] {
  return parseCsvRows(text).map((row) => row.cells);
}

/**
 * Parses RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF), leaving out blank lines.
 * Manifests are small and written by hand or by spreadsheets, so a full parser is cheaper than
 * a dependency.
 */
export function parseCsvRows(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  let line = 1;
  let rowLine = 1;
  const content = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // spreadsheets add a BOM
  for (let i = 0; i < content.length; i++) {
    const char = content[i];
    if (inQuotes) {
      if (char === '"' && content[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        inQuotes = false;
      } else {
        if (char === '\n' || (char === '\r' && content[i + 1] !== '\n')) line++;
        field += char;
      }
    } else if (char === '"') {
      inQuotes = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && content[i + 1] === '\n') i++;
      row.push(field);
      rows.push({ line: rowLine, cells: row });
      row = [];
      field = '';
      rowLine = ++line;
    } else {
      field += char;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push({ line: rowLine, cells: row });
  }
  return rows.filter((parsed) => parsed.cells.some((cell) => cell.trim() !== ''));
}

/** One CSV line: fields with a comma, quote or line break are quoted, quotes doubled. */
export function formatCsvRow(cells: readonly string[]): string {
  return cells.map((cell) => (/[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell)).join(',');
}
