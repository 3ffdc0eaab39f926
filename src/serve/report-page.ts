// The run's report.html as the server hands it out. The report shows config.json verbatim, and
// that names the training data and cache folders by absolute path; a page served over HTTP must
// not tell a reader where the lab keeps its data, so each absolute path the run's config holds
// (and the run folder itself) is shown as its last component only.
import { readFileSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { describingFolder, readRunConfig, runPath } from '../run/index.js';

function absolutePathsIn(value: unknown, found: Set<string>): Set<string> {
  if (typeof value === 'string' && value.length > 1 && isAbsolute(value)) found.add(value);
  else if (Array.isArray(value)) for (const v of value) absolutePathsIn(v, found);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) absolutePathsIn(v, found);
  return found;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Every way a path can be written in the page: as is, HTML-escaped, inside a JSON string, both. */
function spellings(path: string): string[] {
  const json = JSON.stringify(path).slice(1, -1);
  return [...new Set([path, escapeHtml(path), json, escapeHtml(json)])];
}

export function readServedReport(runDir: string): Buffer {
  const html = readFileSync(runPath(runDir, 'report'), 'utf8');
  const paths = absolutePathsIn(readRunConfig(describingFolder(runDir)), new Set([resolve(runDir)]));
  // Longest first, so a folder inside another is replaced before its parent could cut it in two.
  let redacted = html;
  for (const path of [...paths].sort((a, b) => b.length - a.length)) {
    const shown = `…/${basename(path)}`;
    for (const spelling of spellings(path)) redacted = redacted.split(spelling).join(shown);
  }
  return Buffer.from(redacted, 'utf8');
}
