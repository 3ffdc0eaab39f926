// Instance relabeling for a cell encoder trained from case labels (multiple-instance learning in
// rounds: mi-SVM, Andrews, Tsochantaridis & Hofmann, NIPS 2002, and the pseudo-label MIL that
// followed). Copying a case's label onto every cell teaches the encoder that the mature cells of a
// left-shift case are "left-shift": on pbc-cases that noise left immature granulocytes and mature
// cells inseparable in the embedding (a linear probe judged with cell types: AUC 0.84). The standard
// MIL assumption gives cleaner labels from the case labels alone:
// - every cell of a case labelled with the normal class is normal (a normal case has no key cell);
// - in an abnormal case of class c, the cells the previous round's model scores highest for c (the
//   top `keyShare` of the bag, at least one) are taken as c's key cells;
// - a cell of an abnormal case that scores no higher for c than the median cell of the NORMAL
//   training cases (`normalQuantile`) looks like a normal case's cell: it is labelled normal;
// - the cells in between are left out of the loss: calling them either way would teach the next
//   encoder a guess (a key cell the previous model missed labelled normal, or a mature cell
//   labelled c). Normal cases already give the encoder every mature cell type, cleanly labelled.
// Only the case label and the previous model's scores are read, never a cell's own type.
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../io/index.js';
import { F, fromTypedArray, type Tensor } from '../torch/index.js';
import { trainRun, type TrainResult } from './fit.js';
import type { TrainingLoss } from './learner.js';
import { TRAINING_DEFAULTS, type TrainingConfig } from './training-config.js';
import type { CaseBag } from './train-case-cells.js';

export const RELABEL_FILE = 'relabel.json';

export interface RelabelSettings {
  /** Share of an abnormal case's cells (the highest-scoring for its class; at least one) labelled with the case's class. */
  keyShare: number;
  /** Cells of an abnormal case scoring at most this quantile of the normal training cases' cells for the case's class are labelled normal. */
  normalQuantile: number;
}

/**
 * Defaults fixed before any measurement: 15% is the lower bound of the share of key cells that
 * defines pbc-cases' abnormal classes (so the top 15% are the cells most surely key), and the
 * median keeps only the cells that look more normal than half of the known-normal cells.
 */
export const RELABEL_DEFAULTS: RelabelSettings = { keyShare: 0.15, normalQuantile: 0.5 };

export function checkRelabelSettings({ keyShare, normalQuantile }: RelabelSettings): void {
  if (!(Number.isFinite(keyShare) && keyShare > 0 && keyShare <= 1)) throw new Error(`--key-share must be a share in (0, 1], got ${keyShare}`);
  if (!(Number.isFinite(normalQuantile) && normalQuantile >= 0 && normalQuantile <= 1)) throw new Error(`--normal-quantile must be in [0, 1], got ${normalQuantile}`);
}

/** A cell's label for the next encoder: a class index, or null (left out of the loss). */
export type InstanceLabel = number | null;

export interface Relabeling {
  /** Absolute cell path → its instance label. */
  labels: Map<string, InstanceLabel>;
  /** Per class: the score threshold under which an abnormal case's cell is labelled normal (null for the normal class). */
  thresholds: Record<string, number | null>;
  /** Cells per instance label ("left out" for null). */
  counts: Record<string, number>;
  /** Cells of abnormal cases that kept their case's label / were labelled normal / were left out. */
  abnormalCells: { key: number; normal: number; leftOut: number };
}

/** The q-quantile (linear interpolation) of `values`; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Instance labels of the training cells from their cases' labels and the previous model's calibrated
 * probabilities (`bag.cellProbabilities`, in the run's class order); see the file comment.
 */
export function relabelCells(bags: readonly CaseBag[], classNames: readonly string[], normalClass: string, settings: RelabelSettings = RELABEL_DEFAULTS): Relabeling {
  checkRelabelSettings(settings);
  const normal = classNames.indexOf(normalClass);
  if (normal < 0) throw new Error(`instance relabeling needs the case class of normal cases, "${normalClass}", among the run's classes (${classNames.join(', ')}); name it with --normal-class`);
  const normalBags = bags.filter((bag) => bag.label === normal);
  if (normalBags.length === 0) throw new Error(`the training split holds no "${normalClass}" case: the normal cells that relabeling learns from are missing`);
  const thresholds: Record<string, number | null> = {};
  classNames.forEach((name, c) => {
    thresholds[name] = c === normal ? null : quantile(normalBags.flatMap((bag) => bag.cellProbabilities.map((p) => p[c])), settings.normalQuantile);
  });
  const labels = new Map<string, InstanceLabel>();
  const abnormalCells = { key: 0, normal: 0, leftOut: 0 };
  for (const bag of bags) {
    if (bag.label === normal) {
      for (const path of bag.paths) labels.set(path, normal);
      continue;
    }
    const c = bag.label;
    const threshold = thresholds[classNames[c]]!;
    const keys = Math.max(1, Math.round(settings.keyShare * bag.paths.length));
    // Highest score first; ties by path so the labels do not depend on the cells' order.
    const ranked = bag.paths.map((path, i) => ({ path, score: bag.cellProbabilities[i][c] })).sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    ranked.forEach(({ path, score }, rank) => {
      if (rank < keys) {
        labels.set(path, c);
        abnormalCells.key++;
      } else if (score <= threshold) {
        labels.set(path, normal);
        abnormalCells.normal++;
      } else {
        labels.set(path, null);
        abnormalCells.leftOut++;
      }
    });
  }
  const counts: Record<string, number> = Object.fromEntries([...classNames, 'left out'].map((name) => [name, 0]));
  for (const label of labels.values()) counts[label === null ? 'left out' : classNames[label]]++;
  return { labels, thresholds, counts, abnormalCells };
}

/**
 * Class weights of the instance labels (inverse frequency, mean weight 1 over the labelled cells), so
 * the few key cells are not drowned by the normal ones; a class without cells gets weight 0.
 */
export function instanceClassWeights(relabeling: Relabeling, classNames: readonly string[]): Float32Array {
  const labelled = [...relabeling.labels.values()].filter((label): label is number => label !== null);
  const counts = classNames.map((_, c) => labelled.filter((label) => label === c).length);
  const present = counts.filter((n) => n > 0).length;
  return Float32Array.from(counts, (n) => (n > 0 ? labelled.length / (present * n) : 0));
}

/**
 * The training loss on the instance labels: class-weighted cross-entropy (with label smoothing) over
 * the batch's labelled cells; cells left out count nothing. A cell the relabeling never saw is an
 * error naming it (it would otherwise train on its case's label unnoticed).
 */
export function relabeledLoss(relabeling: Relabeling, classWeights: Float32Array, labelSmoothing: number): TrainingLoss {
  return (logits, _y, paths) => {
    const targets = new BigInt64Array(paths.length);
    const weights = new Float32Array(paths.length);
    paths.forEach((path, i) => {
      if (!relabeling.labels.has(path)) throw new Error(`${path} has no instance label: the relabeling covers the training cells of the manifest it was made from; train on that manifest`);
      const label = relabeling.labels.get(path)!;
      targets[i] = BigInt(label ?? 0);
      weights[i] = label === null ? 0 : classWeights[label];
    });
    const device = logits.device;
    const y: Tensor = fromTypedArray(targets, [paths.length], { device });
    const w: Tensor = fromTypedArray(weights, [paths.length], { device });
    const perCell = F.crossEntropy(logits, y, { reduction: 'none', labelSmoothing });
    // Σ w·CE / Σ w; a batch of left-out cells only (Σ w = 0) gives a zero loss that still backpropagates.
    const total = weights.reduce((a, b) => a + b, 0);
    return perCell.mul(w).sum().div(total > 0 ? total : 1);
  };
}

export const RelabelRecordSchema = z.object({
  /** The run whose scores made the labels, and the digest of its weights. */
  from: z.string().min(1),
  fromWeightsSha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The encoder's round: a run trained on the case labels is round 1, one relabeled from a round-k run is round k + 1. */
  round: z.number().int().min(2),
  normalClass: z.string().min(1),
  keyShare: z.number(),
  normalQuantile: z.number(),
  thresholds: z.record(z.string(), z.number().nullable()),
  counts: z.record(z.string(), z.number().int().nonnegative()),
  abnormalCells: z.object({ key: z.number().int(), normal: z.number().int(), leftOut: z.number().int() }),
  classWeights: z.array(z.number()),
  trainCases: z.number().int().nonnegative(),
});
export type RelabelRecord = z.infer<typeof RelabelRecordSchema>;

/**
 * Trains a fresh cell encoder into `runDir` on the instance labels (the run's data is the case
 * manifest itself, so it stays a case-level run with the same split), then writes relabel.json
 * beside it saying where the labels came from. Validation, epoch choice and calibration are the
 * normal run's, against the case labels of the validation cells.
 */
export async function trainRelabeledRun(options: Partial<TrainingConfig> & { data: string }, runDir: string, relabeling: Relabeling, record: Omit<RelabelRecord, 'thresholds' | 'counts' | 'abnormalCells' | 'classWeights'>, classNames: readonly string[], log = (line: string) => console.error(line)): Promise<TrainResult> {
  const classWeights = instanceClassWeights(relabeling, classNames);
  const smoothing = options.labelSmoothing ?? TRAINING_DEFAULTS.labelSmoothing;
  log(`instance labels (round ${record.round}, from ${record.from}): ${Object.entries(relabeling.counts).map(([name, n]) => `${name} ${n}`).join(', ')}; abnormal cases' cells: ${relabeling.abnormalCells.key} key, ${relabeling.abnormalCells.normal} normal, ${relabeling.abnormalCells.leftOut} left out`);
  const result = await trainRun(options, runDir, { log, loss: relabeledLoss(relabeling, classWeights, smoothing) });
  if (result.reason !== 'interrupted') {
    writeJsonAtomic(join(result.runDir, RELABEL_FILE), RelabelRecordSchema.parse({
      ...record,
      thresholds: relabeling.thresholds,
      counts: relabeling.counts,
      abnormalCells: relabeling.abnormalCells,
      classWeights: Array.from(classWeights),
    }));
  }
  return result;
}
