// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/case-cv-by-ood-share.mjs RUN SCORES.json 0.02,0.005,0,-1 [REPEATS]`
// (SCORES.json from ood-threshold-shares.mjs; -1 sets nothing aside): the benchmark's case CV with the cells set aside at each threshold.
// CV case accuracy (5-fold x R repeats over train+val cases) with cells set aside at thresholds fitted to flag share s of val cells.
import { readFileSync } from 'node:fs';
const root = new URL('../../dist', import.meta.url).href;
const { loadRun, readCellTypeColumn } = await import(`${root}/src/run/index.js`);
const { fitOodThreshold } = await import(`${root}/src/eval/index.js`);
const { bagWithout, prepareCaseData } = await import(`${root}/src/train/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
const { crossValidateOnce, meanFigures } = await import(`${root}/bench/cases.js`);
setNumThreads(2);
const [runDir, scoresFile, sharesArg, repeatsArg] = process.argv.slice(2);
const shares = sharesArg.split(',').map(Number);
const repeats = Number(repeatsArg ?? 5);
const sc = JSON.parse(readFileSync(scoresFile, 'utf8'));
const scoreOf = new Map();
for (const sp of ['train', 'val']) sc.splits[sp].paths.forEach((p, i) => scoreOf.set(p, sc.splits[sp].scores[i]));
const cell = await loadRun(runDir, { calibration: 'optional', caseLevel: 'skip' });
const prepared = await prepareCaseData(cell, { splits: ['train', 'val'], log: () => {} });
const every = [...prepared.bags.train, ...prepared.bags.val];
const types = readCellTypeColumn(cell.config.training.data);
const results = [];
for (const s of shares) {
  const t = s < 0 ? Infinity : fitOodThreshold(sc.splits.val.scores, s);
  const setAside = new Set(every.flatMap((b) => b.paths).filter((p) => { const v = scoreOf.get(p); if (v === undefined) throw new Error('no score ' + p); return !(v <= t); }));
  const bags = every.flatMap((b) => bagWithout(b, setAside) ?? []);
  const each = Array.from({ length: repeats }, (_, r) => crossValidateOnce(bags, cell.classNames, prepared.embeddingViews, types, 5, r, 0, () => {}));
  const m = meanFigures(each);
  const row = { share: s, threshold: t, setAside: setAside.size, acc: m.accuracy, ki: m.keyInstanceAuc, perRepeat: each.map((c) => +c.accuracy.mil.toFixed(4)), mlpRepeat: each.map((c) => +c.accuracy['mean-log-probability'].toFixed(4)) };
  console.log(JSON.stringify(row));
  results.push(row);
}
await prepared.dataset.close();
cell.model.dispose();
