// Issue 12 experiment (docs/case-results.md): `node scripts/experiments/encoder-cv-pooling.mjs DIR OUT.json POOLING[,POOLING…] [THREADS] [fold-1,fold-2,…]`.
// On the fold runs of `npm run bench -- cases --encoder-folds K --dir DIR` (each fold's encoder never
// saw its held-out cases' cells), trains train-case's cross-validated case model (5 folds × 5 heads,
// fold seed 0, over the fold run's train+val cases, OOD-flagged cells left out) once per pooling of
// the MIL head, and calls the fold's held-out (test) cases with its 25 heads. Prints, per pooling,
// the accuracy and log-loss of the raw ensemble over every held-out case (no temperature: it changes
// no call), and keeps every logit in OUT.json. Reads cell_type nowhere.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const root = new URL('../../dist', import.meta.url).href;
const { loadRun, bagsWithoutSetAside } = await import(`${root}/src/run/index.js`);
const { prepareCaseData, trainCaseFolds, disposeFolds, ensembleLogitsOfBags, caseLogLoss } = await import(`${root}/src/train/index.js`);
const { setNumThreads } = await import(`${root}/src/torch/index.js`);
const [dir, out, poolings, threads = '2', only] = process.argv.slice(2);
setNumThreads(Number(threads));
const runs = readdirSync(dir).filter((name) => /^fold-\d+$/.test(name) && existsSync(join(dir, name, 'ood.json')) && (!only || only.split(',').includes(name))).sort();
const rows = [];
for (const name of runs) {
  const cell = await loadRun(join(dir, name), { calibration: 'optional', caseLevel: 'skip' });
  const prepared = await prepareCaseData(cell, { splits: ['train', 'val', 'test'], log: (l) => console.error(l) });
  const { bags: every } = await bagsWithoutSetAside(cell, [...prepared.bags.train, ...prepared.bags.val]);
  const { bags: held } = await bagsWithoutSetAside(cell, prepared.bags.test);
  for (const pooling of poolings.split(',')) {
    const folds = trainCaseFolds(every, cell.classNames.length, { folds: 5, foldSeed: 0, headSeed: 0, head: { pooling } });
    const heads = folds.flatMap((f) => f.heads.map((h) => h.mil));
    const logits = ensembleLogitsOfBags(heads, held);
    held.forEach((bag, i) => rows.push({ fold: name, pooling, id: bag.id, label: bag.label, logits: logits[i] }));
    const { nll, accuracy } = caseLogLoss(logits, held.map((b) => b.label));
    console.error(`${name} ${pooling}: ${(accuracy * 100).toFixed(1)}% of ${held.length}, log-loss ${nll.toFixed(4)}`);
    disposeFolds(folds);
  }
  await prepared.dataset.close();
  cell.model.dispose();
}
writeFileSync(out, JSON.stringify({ dir, classes: null, rows }));
for (const pooling of poolings.split(',')) {
  const mine = rows.filter((r) => r.pooling === pooling);
  const { nll, accuracy } = caseLogLoss(mine.map((r) => r.logits), mine.map((r) => r.label));
  const wrong = mine.filter((r) => r.logits.indexOf(Math.max(...r.logits)) !== r.label).map((r) => r.id);
  console.log(`${pooling}: ${Math.round(accuracy * mine.length)} of ${mine.length} held-out cases right (${(accuracy * 100).toFixed(1)}%), log-loss ${nll.toFixed(4)}; wrong: ${wrong.join(' ') || 'none'}`);
}
