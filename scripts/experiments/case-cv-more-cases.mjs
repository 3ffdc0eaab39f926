// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/case-cv-more-cases.mjs RUN SCORES.json 0.02 inner,fixed40,fixed80 [REPEATS]`.
// CV: heads trained on 3 folds with epoch chosen on an inner fold (train-case's recipe, trainCaseFolds) vs on 4 folds for a fixed epoch count (no inner val).
import { openCaseBags } from './case-bags-by-ood-share.mjs';
const root = new URL('../../dist', import.meta.url).href;
const { argmax, caseMetrics, softmaxRow } = await import(`${root}/src/eval/index.js`);
const { trainCaseFolds, outOfFoldLogits, disposeFolds, trainCaseHeads, ensembleLogitsOfBags, CASE_HEAD_DEFAULTS } = await import(`${root}/src/train/index.js`);
const { stratifiedKFold } = await import(`${root}/src/data/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
setNumThreads(2);
const [runDir, scoresFile, share, variantsArg, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg ?? 5);
const opened = await openCaseBags(runDir, scoresFile);
const { bags } = opened.bagsAt(Number(share));
const C = opened.cell.classNames.length;

/** Held-out logits per case: the recipe train-case uses (3 folds train, the next chooses the epochs). */
function innerLogits(r) {
  const folds = trainCaseFolds(bags, C, { folds: 5, foldSeed: r, headSeed: 0 });
  try {
    return outOfFoldLogits(folds);
  } finally {
    disposeFolds(folds);
  }
}

/** Held-out logits per case: heads trained on the 4 other folds for a fixed `epochs`, nothing chosen. */
function fixedLogits(r, epochs) {
  const foldOf = stratifiedKFold(bags.map((b) => ({ key: b.id, label: b.label, group: b.id })), 5, r);
  const logits = new Map();
  for (let k = 0; k < 5; k++) {
    const held = bags.filter((b) => foldOf.get(b.id) === k);
    const heads = trainCaseHeads(bags.filter((b) => foldOf.get(b.id) !== k), [], C, { ...CASE_HEAD_DEFAULTS, seed: 0, epochs, patience: 0 }, 5).map((h) => h.mil);
    ensembleLogitsOfBags(heads, held).forEach((row, i) => logits.set(held[i].id, row));
    for (const h of heads) h.dispose();
  }
  return logits;
}

for (const variant of variantsArg.split(',')) {
  const accs = [], nlls = [];
  for (let r = 0; r < repeats; r++) {
    const logits = variant === 'inner' ? innerLogits(r) : fixedLogits(r, Number(variant.replace('fixed', '')));
    const rows = bags.map((b) => Array.from(softmaxRow(logits.get(b.id), 1)));
    const m = caseMetrics(rows, rows.map((row) => argmax(row)), bags.map((b) => b.label), opened.cell.classNames);
    accs.push(+m.accuracy.toFixed(4)); nlls.push(+m.nll.toFixed(4));
  }
  const mean = (a) => +(a.reduce((x, y) => x + y, 0) / a.length).toFixed(4);
  console.log(JSON.stringify({ variant, share, acc: mean(accs), nll: mean(nlls), accs, nlls }));
}
await opened.close();
