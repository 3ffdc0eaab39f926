// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/case-cv-more-cases.mjs RUN SCORES.json 0.02 inner,fixed40,fixed80 [REPEATS]`.
// CV: heads trained on 3 folds with epoch chosen on an inner fold (current) vs on 4 folds for a fixed epoch count (no inner val).
import { readFileSync } from 'node:fs';
const root = new URL('../../dist', import.meta.url).href;
const { loadRun } = await import(`${root}/src/run/index.js`);
const { fitOodThreshold, caseMetrics } = await import(`${root}/src/eval/index.js`);
const { bagWithout, prepareCaseData, trainCaseHeads, ensembleLogitsOfBags, CASE_HEAD_DEFAULTS } = await import(`${root}/src/train/index.js`);
const { stratifiedKFold } = await import(`${root}/src/data/index.js`);
const { softmaxRow } = await import(`${root}/src/eval/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
setNumThreads(2);
const [runDir, scoresFile, share, variantsArg, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg ?? 5);
const sc = JSON.parse(readFileSync(scoresFile, 'utf8'));
const scoreOf = new Map();
for (const sp of ['train', 'val']) sc.splits[sp].paths.forEach((p, i) => scoreOf.set(p, sc.splits[sp].scores[i]));
const cell = await loadRun(runDir, { calibration: 'optional', caseLevel: 'skip' });
const prepared = await prepareCaseData(cell, { splits: ['train', 'val'], log: () => {} });
const every = [...prepared.bags.train, ...prepared.bags.val];
const t = Number(share) < 0 ? Infinity : fitOodThreshold(sc.splits.val.scores, Number(share));
const setAside = new Set(every.flatMap((b) => b.paths).filter((p) => !(scoreOf.get(p) <= t)));
const bags = every.flatMap((b) => bagWithout(b, setAside) ?? []);
const C = cell.classNames.length;
for (const variant of variantsArg.split(',')) {
  const accs = [], nlls = [];
  for (let r = 0; r < repeats; r++) {
    const foldOf = stratifiedKFold(bags.map((b) => ({ key: b.id, label: b.label, group: b.id })), 5, r);
    const probs = new Map();
    for (let k = 0; k < 5; k++) {
      const held = bags.filter((b) => foldOf.get(b.id) === k);
      let train, val, opts;
      if (variant === 'inner') {
        const inner = (k + 1) % 5;
        val = bags.filter((b) => foldOf.get(b.id) === inner);
        train = bags.filter((b) => foldOf.get(b.id) !== k && foldOf.get(b.id) !== inner);
        opts = { ...CASE_HEAD_DEFAULTS, seed: 0 };
      } else {
        const E = Number(variant.replace('fixed', ''));
        val = [];
        train = bags.filter((b) => foldOf.get(b.id) !== k);
        opts = { ...CASE_HEAD_DEFAULTS, seed: 0, epochs: E, patience: 0 };
      }
      const heads = trainCaseHeads(train, val, C, opts, 5).map((h) => h.mil);
      const logits = ensembleLogitsOfBags(heads, held);
      held.forEach((b, i) => probs.set(b.id, Array.from(softmaxRow(logits[i], 1))));
      for (const h of heads) h.dispose();
    }
    const rows = bags.map((b) => probs.get(b.id));
    const m = caseMetrics(rows, rows.map((p) => p.indexOf(Math.max(...p))), bags.map((b) => b.label), cell.classNames);
    accs.push(+m.accuracy.toFixed(4)); nlls.push(+m.nll.toFixed(4));
  }
  const mean = (a) => +(a.reduce((x, y) => x + y, 0) / a.length).toFixed(4);
  console.log(JSON.stringify({ variant, share, acc: mean(accs), nll: mean(nlls), accs, nlls }));
}
await prepared.dataset.close();
cell.model.dispose();
