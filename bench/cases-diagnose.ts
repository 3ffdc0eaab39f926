// `npm run bench -- cases --run DIR --diagnose 1`: where a case-level cell encoder stands, judged
// with the manifest's cell_type column (read here only to JUDGE, on validation and test cells; no
// figure here trains or chooses anything that a case model uses). For each abnormal case class c
// and its key cell type (left-shift = ig, erythroblastic = erythroblast):
// - cell_auc: the ROC-AUC of the cell model's calibrated p(c) for key cells against every other cell;
// - probe_auc: a diagnostic linear probe (multinomial logistic regression on the standardised
//   embedding, fitted on the VALIDATION cells with their cell types, measured on the TEST cells): how
//   well the embedding the case model pools separates key from other cells at all. A low probe AUC
//   means the encoder, not the pooling, is the bottleneck;
// - relabel: what instance relabeling (train/case-relabel.ts, default settings) would label the
//   cells of the validation and test cases: the share of true key cells among those it keys
//   (precision), and how many key cells it would call normal.
import { RELABEL_DEFAULTS, prepareCaseData, relabelCells, type CaseBag } from '../src/train/index.js';
import { parseKeyCellTypes } from '../src/eval/index.js';
import { DEFAULT_NORMAL_CLASS, loadRun, readCellTypeColumn } from '../src/run/index.js';

const KEY_CELL_TYPES = 'left-shift=ig,erythroblastic=erythroblast';
const round = (v: number) => Math.round(v * 10000) / 10000;

/** Mann–Whitney ROC-AUC of `scores` for the positives (ties count half). */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const pos = scores.filter((_, i) => positive[i]);
  const neg = scores.filter((_, i) => !positive[i]);
  if (pos.length === 0 || neg.length === 0) return NaN;
  let wins = 0;
  for (const p of pos) for (const n of neg) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (pos.length * neg.length);
}

interface Cell {
  embedding: Float32Array;
  probabilities: Float64Array;
  type: string;
}

const cellsOf = (bags: readonly CaseBag[], types: Map<string, string>): Cell[] => bags.flatMap((bag) => bag.paths.map((path, i) => ({ embedding: bag.embeddings[i], probabilities: bag.cellProbabilities[i], type: types.get(path) ?? '' })));

/** Multinomial logistic regression (full-batch gradient descent, L2), fitted on standardised rows; returns class probabilities of `apply`. */
function linearProbe(fit: Cell[], targets: number[], classes: number, apply: Cell[], { steps = 1500, lr = 0.5, l2 = 1e-3 } = {}): number[][] {
  const d = fit[0].embedding.length;
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (const c of fit) for (let j = 0; j < d; j++) mean[j] += c.embedding[j] / fit.length;
  for (const c of fit) for (let j = 0; j < d; j++) std[j] += (c.embedding[j] - mean[j]) ** 2 / fit.length;
  for (let j = 0; j < d; j++) std[j] = Math.sqrt(std[j]) + 1e-6;
  const standardise = (c: Cell) => Float64Array.from(c.embedding, (v, j) => (v - mean[j]) / std[j]);
  const X = fit.map(standardise);
  const W = Array.from({ length: classes }, () => new Float64Array(d + 1));
  const probs = (x: Float64Array) => {
    const z = W.map((w) => w.reduce((s, wj, j) => s + wj * (j < d ? x[j] : 1), 0));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / sum);
  };
  for (let step = 0; step < steps; step++) {
    const grad = Array.from({ length: classes }, () => new Float64Array(d + 1));
    X.forEach((x, i) => {
      const p = probs(x);
      for (let k = 0; k < classes; k++) {
        const g = (p[k] - (targets[i] === k ? 1 : 0)) / X.length;
        for (let j = 0; j < d; j++) grad[k][j] += g * x[j];
        grad[k][d] += g;
      }
    });
    for (let k = 0; k < classes; k++) for (let j = 0; j <= d; j++) W[k][j] -= lr * (grad[k][j] + (j < d ? l2 * W[k][j] : 0));
  }
  return apply.map((c) => probs(standardise(c)));
}

export async function diagnoseCases(run: string, data: string | undefined): Promise<Record<string, unknown>> {
  const cell = await loadRun(run, { calibration: 'optional', caseLevel: 'skip' });
  const prepared = await prepareCaseData(cell, { data, splits: ['val', 'test'], log: (l) => console.error(l) });
  try {
    const classes = cell.classNames;
    const types = readCellTypeColumn(data ?? cell.config.training.data);
    const mapping = parseKeyCellTypes(KEY_CELL_TYPES, classes);
    const val = cellsOf(prepared.bags.val, types);
    const test = cellsOf(prepared.bags.test, types);
    const keyClass = (type: string) => [...mapping].findIndex(([, set]) => set.has(type));
    const abnormal = [...mapping.keys()];
    // Probe targets: 0..k-1 the key type of each abnormal class, k every other cell.
    const target = (c: Cell) => (keyClass(c.type) >= 0 ? keyClass(c.type) : abnormal.length);
    const probe = linearProbe(val, val.map(target), abnormal.length + 1, test);
    const perClass: Record<string, unknown> = {};
    abnormal.forEach((name, k) => {
      const c = classes.indexOf(name);
      const isKey = (cells: Cell[]) => cells.map((x) => mapping.get(name)!.has(x.type));
      perClass[name] = {
        key_cell_types: [...mapping.get(name)!],
        cell_auc: { val: round(rocAuc(val.map((x) => x.probabilities[c]), isKey(val))), test: round(rocAuc(test.map((x) => x.probabilities[c]), isKey(test))) },
        probe_auc_test: round(rocAuc(probe.map((p) => p[k]), isKey(test))),
      };
    });
    const relabel: Record<string, unknown> = {};
    for (const split of ['val', 'test'] as const) {
      const bags = prepared.bags[split];
      const r = relabelCells(bags, classes, DEFAULT_NORMAL_CLASS, RELABEL_DEFAULTS);
      let keyed = 0;
      let keyedRight = 0;
      let keyCalledNormal = 0;
      let keyCells = 0;
      for (const bag of bags) {
        const key = mapping.get(classes[bag.label]);
        if (!key) continue;
        bag.paths.forEach((path) => {
          const isKey = key.has(types.get(path) ?? '');
          const label = r.labels.get(path);
          if (isKey) keyCells++;
          if (label === bag.label) {
            keyed++;
            if (isKey) keyedRight++;
          } else if (isKey && label !== null) keyCalledNormal++;
        });
      }
      relabel[split] = { keyed, key_precision: round(keyedRight / keyed), key_cells: keyCells, key_cells_labelled_normal: keyCalledNormal, left_out: r.abnormalCells.leftOut };
    }
    return { run, judged_with: 'cell_type (val and test cells only)', per_class: perClass, relabel, relabel_settings: RELABEL_DEFAULTS };
  } finally {
    await prepared.dataset.close();
    cell.model.dispose();
  }
}
