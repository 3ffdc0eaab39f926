// DESIGN.md's layering, checked on the source: every import between folders of src/ points down
// (or sideways to a lower-ranked neighbour), and goes through the folder's index.ts, its public
// surface. An image's path from the CLI to the model therefore walks down without coming back up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Higher calls lower. Folders of one rank in DESIGN.md (eval/explain/report) are ordered so no two call each other. */
const RANK: Record<string, number> = { cli: 9, serve: 8, run: 7, train: 6, report: 5, explain: 4.5, eval: 4, model: 3, data: 3, nn: 2, torch: 1, io: 0 };

/**
 * Deep imports allowed on purpose: data/to-tensor.ts is the one file of data that touches libtorch,
 * kept out of data/index.ts so the decode worker threads never load the native addon.
 */
const DEEP_IMPORTS_ALLOWED = new Set(['data/to-tensor.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

test('every folder of src/ has a rank and an index.ts, except the CLI whose entry is main.ts', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const folder of folders) {
    assert.ok(folder in RANK, `src/${folder} is not placed in DESIGN.md's layers (add it to RANK)`);
    if (folder !== 'cli') assert.ok(readdirSync(join(SRC, folder)).includes('index.ts'), `src/${folder} has no index.ts`);
  }
});

test('imports between folders point down and go through index.ts', () => {
  const problems: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file).split('/')[0];
    for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const target = relative(SRC, normalize(join(dirname(file), match[1]))).replace(/\.js$/, '.ts');
      const to = target.split('/')[0];
      if (to === from || target.startsWith('..')) continue;
      if (!(RANK[from] > RANK[to])) problems.push(`${relative(SRC, file)} imports ${target}: ${from} may not call ${to} (layers only call downwards)`);
      else if (target !== `${to}/index.ts` && !DEEP_IMPORTS_ALLOWED.has(target)) problems.push(`${relative(SRC, file)} imports ${target}: import ${to}/index.ts, its public surface`);
    }
  }
  assert.deepEqual(problems, []);
});
