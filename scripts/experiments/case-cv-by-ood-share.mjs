// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/case-cv-by-ood-share.mjs RUN SCORES.json 0.02,0.005,0,-1 [REPEATS]`
// (SCORES.json from ood-threshold-shares.mjs; -1 sets nothing aside): the benchmark's case CV with the cells set aside at each threshold.
// CV case accuracy (5-fold x R repeats over train+val cases) with cells set aside at thresholds fitted to flag share s of val cells.
import { openCaseBags } from './case-bags-by-ood-share.mjs';
const root = new URL('../../dist', import.meta.url).href;
const { readCellTypeColumn } = await import(`${root}/src/run/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
const { crossValidateOnce, meanFigures } = await import(`${root}/bench/cases.js`);
setNumThreads(2);
const [runDir, scoresFile, sharesArg, repeatsArg] = process.argv.slice(2);
const shares = sharesArg.split(',').map(Number);
const repeats = Number(repeatsArg ?? 5);
const opened = await openCaseBags(runDir, scoresFile);
const types = readCellTypeColumn(opened.cell.config.training.data);
for (const s of shares) {
  const { threshold, setAside, bags } = opened.bagsAt(s);
  const each = Array.from({ length: repeats }, (_, r) => crossValidateOnce(bags, opened.cell.classNames, opened.prepared.embeddingViews, types, 5, r, 0, () => {}));
  const m = meanFigures(each);
  console.log(JSON.stringify({ share: s, threshold, setAside: setAside.size, acc: m.accuracy, ki: m.keyInstanceAuc, perRepeat: each.map((c) => +c.accuracy.mil.toFixed(4)), mlpRepeat: each.map((c) => +c.accuracy['mean-log-probability'].toFixed(4)) }));
}
await opened.close();
