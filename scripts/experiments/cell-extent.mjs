// How much of each crop the stained cell fills, to choose `aplnet train --zoom`, per cell type:
// `node scripts/experiments/cell-extent.mjs MANIFEST.csv [splits=train,val] [zoom=1]` (needs `npx tsc` first).
// The measure is train's own (src/data/cell-extent.ts: the stained part nearest the centre of the
// 144-px input, its largest distance from the centre along x or y as a share of the half side;
// 1 = it reaches the border), on every image of the splits, with a cell_type column if the manifest
// has one. zoom = 1 / extent keeps a cell of that extent whole.
// pbc-cases train+val at zoom 1 (2026-11-27): median 0.38, p90 0.53, p95 0.59, p99 0.86 (interpolated percentiles) → 1.5 chosen
// (first measured at 120 px with a copy of this code: p95 0.61).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
const root = new URL('../../dist', import.meta.url).href;
const { stainedExtent } = await import(`${root}/src/data/cell-extent.js`);
const { decodeAndPreprocess } = await import(`${root}/src/data/decode/image-decode.js`);
const { percentile } = await import(`${root}/src/data/percentile.js`);

const [manifest, splitArg = 'train,val', zoomArg = '1'] = process.argv.slice(2);
if (!manifest) throw new Error('usage: node scripts/experiments/cell-extent.mjs MANIFEST.csv [splits] [zoom]');
const splits = new Set(splitArg.split(','));
const preprocessing = { size: 144, resize: 'center-crop', zoom: Number(zoomArg) };
const [header, ...lines] = readFileSync(manifest, 'utf8').trim().split('\n');
const columns = header.split(',');
const at = (name) => columns.indexOf(name);
const rows = lines.map((line) => line.split(',')).filter((row) => at('split') < 0 || splits.has(row[at('split')]));

const byType = new Map();
let unstained = 0;
for (const row of rows) {
  const file = resolve(dirname(manifest), row[at('path')]);
  const image = await decodeAndPreprocess(readFileSync(file), file, preprocessing);
  const extent = stainedExtent(image.pixels, image.width);
  if (extent === null) { unstained += 1; continue; }
  const type = at('cell_type') >= 0 ? row[at('cell_type')] : 'all';
  if (!byType.has(type)) byType.set(type, []);
  byType.get(type).push(extent);
}
const line = (name, values) => {
  const at = (percent) => percentile(Float64Array.from(values), percent).toFixed(2);
  console.log(`${name.padEnd(14)} ${String(values.length).padStart(5)}  median ${at(50)}  p90 ${at(90)}  p95 ${at(95)}  p99 ${at(99)}`);
};
if (byType.size > 1) for (const [type, values] of byType) line(type, values);
const all = [...byType.values()].flat();
line('all', all);
console.log(`${unstained} image(s) with no stained pixel; at zoom ${preprocessing.zoom} the 95th percentile is kept whole up to --zoom ${(preprocessing.zoom / percentile(Float64Array.from(all), 95)).toFixed(2)}`);
