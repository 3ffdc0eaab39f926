// Shared by the issue-12 case CV experiments: a cell run's train+val case bags, and the same bags
// with the cells set aside that a threshold fitted to flag `share` of the validation cells flags
// (share < 0: none set aside). SCORES.json comes from ood-threshold-shares.mjs.
import { readFileSync } from 'node:fs';
const root = new URL('../../dist', import.meta.url).href;
const { loadRun } = await import(`${root}/src/run/index.js`);
const { fitOodThreshold } = await import(`${root}/src/eval/index.js`);
const { bagWithout, prepareCaseData } = await import(`${root}/src/train/index.js`);

export async function openCaseBags(runDir, scoresFile) {
  const scores = JSON.parse(readFileSync(scoresFile, 'utf8'));
  const scoreOf = new Map();
  for (const split of ['train', 'val']) scores.splits[split].paths.forEach((path, i) => scoreOf.set(path, scores.splits[split].scores[i]));
  const cell = await loadRun(runDir, { calibration: 'optional', caseLevel: 'skip' });
  const prepared = await prepareCaseData(cell, { splits: ['train', 'val'], log: () => {} });
  const every = [...prepared.bags.train, ...prepared.bags.val];
  return {
    cell,
    prepared,
    bagsAt(share) {
      const threshold = share < 0 ? Infinity : fitOodThreshold(scores.splits.val.scores, share);
      const setAside = new Set(every.flatMap((bag) => bag.paths).filter((path) => {
        const score = scoreOf.get(path);
        if (score === undefined) throw new Error(`${scoresFile} has no score for ${path}: make it again with ood-threshold-shares.mjs for ${runDir}`);
        return !(score <= threshold);
      }));
      return { threshold, setAside, bags: every.flatMap((bag) => bagWithout(bag, setAside) ?? []) };
    },
    async close() {
      await prepared.dataset.close();
      cell.model.dispose();
    },
  };
}
