// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/ood-threshold-shares.mjs RUN SCORES.json` (after
// `npx tsc -p tsconfig.json`) writes every cell's OOD score and the OOD sets' scores to SCORES.json and
// prints, per share of validation cells flagged, the threshold and what it catches.
// For a run: OOD scores of val/test/train cells and of OOD sets made from VAL cells; per flag share s,
// the threshold fitted on val, the share of each OOD set caught, and real cells flagged by type.
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
const root = new URL('../../dist', import.meta.url).href;
const { loadRun, predictImages, readCellTypeColumn } = await import(`${root}/src/run/index.js`);
const { makeOodSets, photoCrop } = await import(`${root}/src/data/index.js`);
const { fitOodThreshold, flaggedShare } = await import(`${root}/src/eval/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
const { decodeForRun, fixturePhotos, splitImages } = await import(`${root}/bench/ood-features.js`);
const { FIXTURES, PHOTOS, inSmearColours } = await import(`${root}/bench/ood-compare.js`);
setNumThreads(2);
const [runDir, outFile] = process.argv.slice(2);
const run = await loadRun(runDir);
const data = run.config.training.data;
let types = new Map();
try { types = readCellTypeColumn(data); } catch {}
const scores = async (inputs) => (await predictImages(run, inputs)).map((r) => { if (!r.ok) throw new Error(r.message); return r.ood.score; });
const out = { run: runDir, splits: {}, sets: {} };
for (const split of ['val', 'test', 'train']) {
  const { paths } = await splitImages(run, data, split);
  out.splits[split] = { paths, scores: await scores(paths), types: paths.map((p) => types.get(p) ?? null) };
  console.error(split, paths.length);
}
const side = run.inference.preprocessing.size;
const cells = await decodeForRun(run, out.splits.val.paths);
const sets = makeOodSets(cells, await fixturePhotos(FIXTURES, PHOTOS), side, { count: 60, seed: 1 });
const [ihc] = await fixturePhotos(FIXTURES, ['ihc-tissue.jpg']);
sets.ihc_tissue = Array.from({ length: 60 }, (_, i) => photoCrop(ihc, side, 1000 + i));
sets.not_smear_in_smear_colours = inSmearColours(sets.not_smear, cells);
const png = (im) => sharp(Buffer.from(im.pixels), { raw: { width: im.width, height: im.height, channels: 3 } }).png().toBuffer();
for (const [name, images] of Object.entries(sets)) {
  out.sets[name] = await scores(await Promise.all(images.map(async (im, i) => ({ name: `${name}-${i}.png`, bytes: await png(im) }))));
  console.error(name, images.length);
}
writeFileSync(outFile, JSON.stringify(out));
const table = [];
for (const s of [0.02, 0.01, 0.005, 0.0025, 0]) {
  const t = fitOodThreshold(out.splits.val.scores, s);
  const row = { share: s, threshold: +t.toFixed(3) };
  for (const sp of ['val', 'test', 'train']) row[sp] = +flaggedShare(out.splits[sp].scores, t).toFixed(4);
  for (const [name, sc] of Object.entries(out.sets)) row[name] = +flaggedShare(sc, t).toFixed(3);
  const byType = {};
  for (const sp of ['val', 'test']) out.splits[sp].scores.forEach((sc, i) => { const ty = out.splits[sp].types[i]; if (sc > t) byType[ty] = (byType[ty] ?? 0) + 1; });
  row.flaggedByType = byType;
  table.push(row);
}
console.log(JSON.stringify(table, null, 1));
for (const p of run.members ?? [run]) p.model.dispose();
