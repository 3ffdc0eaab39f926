// Trains the case model's gated attention MIL pooling on fixed cell embeddings (a frozen encoder),
// from case labels only: one bag per case, cross-entropy on the case's label, the epoch chosen on
// the validation cases' log-loss. Bags are subsampled each epoch (a random 60–100 % of the cells),
// so the head learns from the share of telling cells, not from one memorised cell.
import { randomFor, shuffleInPlace } from '../data/index.js';
import { CASE_MIL_DEFAULTS, ensembleLogits, GatedAttentionMil, type CaseMilConfig, type CaseMilPooling } from '../model/index.js';
import { AdamW, F, fromTypedArray, keep, manualSeed, noGrad, tensor, tidy, type Tensor } from '../torch/index.js';
import type { CaseBag } from './train-case-cells.js';

export interface CaseHeadOptions {
  epochs: number;
  lr: number;
  weightDecay: number;
  /** Cases whose gradients are averaged per optimizer step. */
  bagsPerStep: number;
  /** Smallest share of a bag's cells kept when it is subsampled in training (1 = never subsample). */
  minKeep: number;
  /** Stop after this many epochs without a lower validation log-loss (0 = never). */
  patience: number;
  seed: number;
  hiddenDim: number;
  attentionDim: number;
  dropout: number;
  pooling: CaseMilPooling;
}

export const CASE_HEAD_DEFAULTS: CaseHeadOptions = {
  epochs: 80,
  lr: 2e-3,
  weightDecay: 1e-2,
  bagsPerStep: 4,
  minKeep: 0.6,
  patience: 25,
  seed: 0,
  pooling: 'attention',
  ...CASE_MIL_DEFAULTS,
};

/**
 * Heads a frozen-encoder case model trains (each from its own seed; the call is the mean of their
 * probabilities). Chosen on pbc-cases (docs/case-results.md): 5 heads against 1 lowered the
 * cross-validated case log-loss (0.115/0.124 vs 0.127/0.172 over two fold seeds) and kept or
 * raised the accuracy (93.3/96.7% vs 93.3/95.6%), for 5× a training of seconds.
 */
export const DEFAULT_CASE_HEADS = 5;

export interface CaseEpoch {
  epoch: number;
  trainLoss: number;
  /** Validation cases' mean log-loss and accuracy (null without validation cases). */
  valNll: number | null;
  valAccuracy: number | null;
}

export interface TrainedCaseHead {
  mil: GatedAttentionMil;
  /** 1-based epoch whose weights were kept. */
  bestEpoch: number;
  history: CaseEpoch[];
}

/** Mean and standard deviation of every embedding channel over the training cells. */
export function embeddingStatistics(bags: readonly CaseBag[], d: number): { mean: Float32Array; std: Float32Array } {
  const sum = new Float64Array(d);
  const squares = new Float64Array(d);
  let n = 0;
  for (const bag of bags) {
    for (const e of bag.embeddings) {
      for (let j = 0; j < d; j++) {
        sum[j] += e[j];
        squares[j] += e[j] * e[j];
      }
      n++;
    }
  }
  const mean = Float32Array.from(sum, (s) => s / n);
  const std = Float32Array.from(squares, (s, j) => Math.sqrt(Math.max(0, s / n - mean[j] * mean[j])));
  return { mean, std };
}

/** A bag's embeddings as one [K, D] tensor (optionally only the cells at `rows`). */
export function bagTensor(bag: CaseBag, rows?: readonly number[]): Tensor {
  const picked = rows ?? bag.embeddings.map((_, i) => i);
  const d = bag.embeddings[0].length;
  const flat = new Float32Array(picked.length * d);
  picked.forEach((row, i) => flat.set(bag.embeddings[row], i * d));
  return fromTypedArray(flat, [picked.length, d]);
}

/** Uncalibrated case logits of every bag, in eval mode. */
export function caseLogitsOf(mil: GatedAttentionMil, bags: readonly CaseBag[]): number[][] {
  const wasTraining = mil.training;
  mil.eval();
  try {
    const device = mil.parameters()[0].device;
    return bags.map((bag) => tidy(() => noGrad(() => Array.from(mil.forward(bagTensor(bag).to({ device })).logits.to('float32').to('cpu').data<'float32'>()))));
  } finally {
    mil.train(wasTraining);
  }
}

/** Mean −log softmax(logits)[label] and the accuracy of argmax. */
export function caseLogLoss(logits: readonly number[][], labels: readonly number[]): { nll: number; accuracy: number } {
  let nll = 0;
  let correct = 0;
  logits.forEach((row, i) => {
    const max = Math.max(...row);
    const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    nll += logSum - row[labels[i]];
    if (row.indexOf(max) === labels[i]) correct++;
  });
  return { nll: nll / logits.length, accuracy: correct / logits.length };
}

/** The rows of a bag kept this epoch: a random subset of at least ⌈minKeep·K⌉ cells. */
export function subsampleRows(size: number, minKeep: number, random: () => number): number[] {
  const rows = Array.from({ length: size }, (_, i) => i);
  if (minKeep >= 1 || size <= 1) return rows;
  const keepCount = Math.max(1, Math.ceil(size * (minKeep + (1 - minKeep) * random())));
  return shuffleInPlace(rows, random).slice(0, keepCount).sort((a, b) => a - b);
}

/** A copy of every tensor of the module's state (to restore the best epoch). */
export function snapshot(state: Map<string, Tensor>): Map<string, Tensor> {
  return new Map([...state].map(([key, t]) => [key, keep(noGrad(() => t.clone()))]));
}

export function disposeSnapshot(state: Map<string, Tensor>): void {
  for (const t of state.values()) t.dispose();
}

export function trainCaseHead(train: readonly CaseBag[], val: readonly CaseBag[], numClasses: number, options: CaseHeadOptions, log: (line: string) => void = () => {}): TrainedCaseHead {
  if (train.length === 0) throw new Error('no training cases: the run\'s train split holds no patient');
  const d = train[0].embeddings[0].length;
  manualSeed(options.seed);
  const config: CaseMilConfig = { embeddingDim: d, hiddenDim: options.hiddenDim, attentionDim: options.attentionDim, numClasses, dropout: options.dropout, pooling: options.pooling };
  const mil = new GatedAttentionMil(config);
  const { mean, std } = embeddingStatistics(train, d);
  mil.setInputStatistics(mean, std);
  const decay = mil.namedParameters().filter(([name]) => name.endsWith('weight')).map(([, t]) => t);
  const noDecay = mil.namedParameters().filter(([name]) => !name.endsWith('weight')).map(([, t]) => t);
  const optimizer = new AdamW([{ params: decay }, { params: noDecay, weightDecay: 0 }], { lr: options.lr, weightDecay: options.weightDecay });
  const history: CaseEpoch[] = [];
  let best: Map<string, Tensor> | null = null;
  let bestEpoch = 0;
  let bestNll = Infinity;
  const valLabels = val.map((bag) => bag.label);
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      mil.train();
      const order = shuffleInPlace(train.map((_, i) => i), randomFor(options.seed, epoch, 0xca5e));
      let lossSum = 0;
      for (let start = 0; start < order.length; start += options.bagsPerStep) {
        const step = order.slice(start, start + options.bagsPerStep);
        lossSum += tidy(() => {
          optimizer.zeroGrad();
          const losses = step.map((b) => {
            const bag = train[b];
            const rows = subsampleRows(bag.embeddings.length, options.minKeep, randomFor(options.seed, epoch, b, 0xba9));
            const { logits } = mil.forward(bagTensor(bag, rows));
            return F.crossEntropy(logits.unsqueeze(0), tensor([bag.label], { dtype: 'int64' }));
          });
          const loss = losses.reduce((a, b) => a.add(b)).div(step.length);
          const value = loss.item();
          if (!Number.isFinite(value)) throw new Error(`the case model's training loss became ${value} at epoch ${epoch}; lower the learning rate`);
          loss.backward();
          optimizer.stepOnce();
          return value * step.length;
        });
      }
      const record: CaseEpoch = { epoch, trainLoss: lossSum / train.length, valNll: null, valAccuracy: null };
      if (val.length > 0) {
        const scores = caseLogLoss(caseLogitsOf(mil, val), valLabels);
        record.valNll = scores.nll;
        record.valAccuracy = scores.accuracy;
      }
      history.push(record);
      const score = record.valNll ?? -epoch; // without validation cases the last epoch is kept
      if (score < bestNll - 1e-9) {
        bestNll = score;
        bestEpoch = epoch;
        if (best) disposeSnapshot(best);
        best = snapshot(mil.stateDict());
      }
      if (epoch === 1 || epoch % 10 === 0 || epoch === options.epochs) {
        log(`case model epoch ${epoch}/${options.epochs}  train loss ${record.trainLoss.toFixed(4)}${record.valNll === null ? '' : `  val cases log-loss ${record.valNll.toFixed(4)} accuracy ${(record.valAccuracy! * 100).toFixed(1)}%`}`);
      }
      if (options.patience > 0 && val.length > 0 && epoch - bestEpoch >= options.patience) {
        log(`case model: no lower validation log-loss for ${options.patience} epochs; stopping at epoch ${epoch}`);
        break;
      }
    }
    if (best) mil.loadStateDict(best);
    return { mil: mil.eval(), bestEpoch, history };
  } catch (err) {
    mil.dispose();
    throw err;
  } finally {
    if (best) disposeSnapshot(best);
    optimizer.dispose();
  }
}

/**
 * `count` heads, head k trained from seed options.seed + k, each keeping its own best epoch on the
 * validation cases. On an error every head already trained is disposed.
 */
export function trainCaseHeads(train: readonly CaseBag[], val: readonly CaseBag[], numClasses: number, options: CaseHeadOptions, count: number, log: (line: string) => void = () => {}): TrainedCaseHead[] {
  if (!Number.isInteger(count) || count < 1) throw new Error(`a case model needs a whole number of heads ≥ 1, got ${count}`);
  const heads: TrainedCaseHead[] = [];
  try {
    for (let k = 0; k < count; k++) {
      if (count > 1) log(`case model head ${k + 1} of ${count} (seed ${options.seed + k})`);
      heads.push(trainCaseHead(train, val, numClasses, { ...options, seed: options.seed + k }, count > 1 && k > 0 ? () => {} : log));
    }
    return heads;
  } catch (err) {
    for (const head of heads) head.mil.dispose();
    throw err;
  }
}

/** Uncalibrated case logits of every bag under an ensemble of heads (ensembleLogits of theirs). */
export function ensembleLogitsOfBags(heads: readonly GatedAttentionMil[], bags: readonly CaseBag[]): number[][] {
  const perHead = heads.map((mil) => caseLogitsOf(mil, bags));
  return bags.map((_, i) => ensembleLogits(perHead.map((rows) => rows[i])));
}
