// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/case-logits.mjs RUN OUT.json [THREADS]`.
// The case model's held-out logits of one cell encoder, for comparing encoders (and their ensembles,
// case-logits-combine.mjs) on the same cases: the out-of-fold logits of train-case's recipe (5 folds ×
// 5 heads, fold seed 0) over the train+val cases, and the test cases' logits of the 25 heads together.
// Cells the run's OOD check sets aside are left out, as in every case call. Reads cell_type nowhere.
import { writeFileSync } from 'node:fs';
const root = new URL('../../dist', import.meta.url).href;
const { loadRun, bagsWithoutSetAside } = await import(`${root}/src/run/index.js`);
const { prepareCaseData, trainCaseFolds, outOfFoldLogits, disposeFolds, ensembleLogitsOfBags } = await import(`${root}/src/train/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
const [run, out, threads = '2'] = process.argv.slice(2);
setNumThreads(Number(threads));
const cell = await loadRun(run, { calibration: 'optional', caseLevel: 'skip' });
const prepared = await prepareCaseData(cell, { splits: ['train', 'val', 'test'], log: (l) => console.error(l) });
const { bags: every } = await bagsWithoutSetAside(cell, [...prepared.bags.train, ...prepared.bags.val]);
const { bags: test } = await bagsWithoutSetAside(cell, prepared.bags.test);
const folds = trainCaseFolds(every, cell.classNames.length, { folds: 5, foldSeed: 0, headSeed: 0, log: (l) => console.error(l) });
const oof = outOfFoldLogits(folds);
const heads = folds.flatMap((f) => f.heads.map((h) => h.mil));
const testLogits = ensembleLogitsOfBags(heads, test);
const result = {
  run, classes: cell.classNames,
  oof: every.map((b) => ({ id: b.id, label: b.label, logits: oof.get(b.id) })),
  test: test.map((b, i) => ({ id: b.id, label: b.label, logits: testLogits[i] })),
};
writeFileSync(out, JSON.stringify(result));
disposeFolds(folds);
await prepared.dataset.close();
cell.model.dispose();
console.error('done', run);
