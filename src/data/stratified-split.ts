import { DataError } from './errors.js';
import { randomFor, shuffleInPlace } from './prng.js';
import { splitNames, type SplitName } from './split-names.js';

/** What the split algorithms need to know about a sample. */
export interface SplitItem {
  key: string;
  label: number;
  /** Items sharing a group always land in the same split: the patient id, or else the content hash. */
  group: string;
}

export interface SplitFractions {
  train: number;
  val: number;
  test: number;
}

interface Group {
  id: string;
  keys: string[];
  /** The group's most frequent label; groups are stratified by it. */
  stratum: number;
}

function collectGroups(items: SplitItem[], seed: number): Map<number, Group[]> {
  const byId = new Map<string, { keys: string[]; counts: Map<number, number> }>();
  for (const item of items) {
    const group = byId.get(item.group) ?? { keys: [] as string[], counts: new Map<number, number>() };
    group.keys.push(item.key);
    group.counts.set(item.label, (group.counts.get(item.label) ?? 0) + 1);
    byId.set(item.group, group);
  }
  const groups: Group[] = [...byId.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, { keys, counts }]) => {
      const stratum = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0][0];
      return { id, keys, stratum };
    });
  // Shuffle, then a stable sort by size: big groups are placed first (so they cannot overshoot late),
  // equal-sized groups in seeded random order.
  shuffleInPlace(groups, randomFor(seed, 0x5eed));
  groups.sort((a, b) => b.keys.length - a.keys.length);
  const strata = new Map<number, Group[]>();
  for (const group of groups) strata.set(group.stratum, [...(strata.get(group.stratum) ?? []), group]);
  return strata;
}

export function validateFractions(fractions: SplitFractions): void {
  const values = [fractions.train, fractions.val, fractions.test];
  const total = values.reduce((sum, value) => sum + value, 0);
  if (values.some((value) => !(value >= 0)) || Math.abs(total - 1) > 1e-6 || fractions.train <= 0) {
    throw new DataError('split', 'bad-split', `fractions train=${fractions.train} val=${fractions.val} test=${fractions.test} must be ≥ 0, sum to 1, with train > 0`);
  }
}

/**
 * Train/val/test split, stratified by class, keeping each group whole. Within each class, each
 * group goes to the split furthest below its target share, so every split ends up close to its
 * fraction of every class (exact for images, as close as group sizes allow for patients).
 */
export function stratifiedHoldout(items: SplitItem[], fractions: SplitFractions, seed: number): Map<string, SplitName> {
  validateFractions(fractions);
  const assignment = new Map<string, SplitName>();
  for (const groups of collectGroups(items, seed).values()) {
    const total = groups.reduce((sum, group) => sum + group.keys.length, 0);
    const filled = { train: 0, val: 0, test: 0 };
    for (const group of groups) {
      const target = (split: SplitName) => fractions[split] * total - filled[split];
      const split = splitNames.filter((name) => fractions[name] > 0).reduce((best, name) => (target(name) > target(best) ? name : best), 'train');
      filled[split] += group.keys.length;
      for (const key of group.keys) assignment.set(key, split);
    }
  }
  return assignment;
}

/** k folds, stratified by class, groups whole: each group goes to the fold of its class holding fewest images. */
export function stratifiedKFold(items: SplitItem[], folds: number, seed: number): Map<string, number> {
  if (!Number.isInteger(folds) || folds < 2) throw new DataError('split', 'bad-split', `k-fold needs an integer k ≥ 2, got ${folds}`);
  const assignment = new Map<string, number>();
  const overall = new Array<number>(folds).fill(0);
  for (const groups of collectGroups(items, seed).values()) {
    const inStratum = new Array<number>(folds).fill(0);
    for (const group of groups) {
      let best = 0;
      for (let fold = 1; fold < folds; fold++) {
        if (inStratum[fold] < inStratum[best] || (inStratum[fold] === inStratum[best] && overall[fold] < overall[best])) best = fold;
      }
      inStratum[best] += group.keys.length;
      overall[best] += group.keys.length;
      for (const key of group.keys) assignment.set(key, best);
    }
  }
  return assignment;
}
