// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/ood-flag-parts.mjs RUN`: which part of the OOD check
// (embedding E or image statistics S) flags each flagged validation and test cell, by cell type.
const root = new URL('../../dist', import.meta.url).href;
const { loadRun, readCellTypeColumn, predictImages } = await import(`${root}/src/run/index.js`);
const { oodPartScores } = await import(`${root}/src/eval/ood-detector.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
const { splitImages } = await import(`${root}/bench/ood-features.js`);
setNumThreads(1);
const run = await loadRun(process.argv[2]);
const det = run.ood.detector;
const types = readCellTypeColumn(run.config.training.data);
for (const split of ['val', 'test']) {
  const { paths } = await splitImages(run, run.config.training.data, split);
  const res = await predictImages(run, paths, { embeddings: true });
  const rows = res.map((r, i) => { const e = oodPartScores(det, r.embedding, det.imageStats.mean).embedding / det.scales.embedding; return { t: types.get(paths[i]), e, c: r.ood.score, f: r.ood.flagged }; });
  const flagged = rows.filter((r) => r.f);
  console.log(split, 'flagged', flagged.length, JSON.stringify(flagged.map((r) => `${r.t}:${r.e >= r.c - 1e-9 ? 'E' : 'S'}(${r.e.toFixed(2)},${r.c.toFixed(2)})`)));
  const byType = {};
  for (const r of rows) (byType[r.t] ??= []).push(r.e);
  const q = (v, f) => +v.sort((a, b) => a - b)[Math.floor(f * (v.length - 1))].toFixed(3);
  console.log(split, 'embedding part median/p95 by type', JSON.stringify(Object.fromEntries(Object.entries(byType).map(([t, v]) => [t, [q(v, 0.5), q(v, 0.95)]]))));
}
run.model.dispose();
