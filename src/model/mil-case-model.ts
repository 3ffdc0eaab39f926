// A trained case model as predict, evaluate and the case summary use it: the gated attention MIL
// pooling (one head, or an ensemble of heads trained from different seeds) with its class names and
// fitted temperature, turning a case's cell embeddings into case probabilities and one weight per
// cell. An ensemble's call is the mean of its heads' probabilities and a cell's weight the mean of
// its heads' weights (combineHeads). It fails closed: a non-finite embedding or output is an error
// naming what was wrong, never a call.
import { fromTypedArray, noGrad, tidy } from '../torch/index.js';
import type { AplNet } from './aplnet.js';
import type { GatedAttentionMil } from './mil-gated-attention.js';

export interface CasePrediction {
  /** Calibrated probability of every case class, in the case model's class order. */
  probabilities: Record<string, number>;
  predicted: string;
  confidence: number;
  /** One weight per cell, in the order the embeddings were given: ≥ 0, summing to 1. */
  weights: number[];
}

export type CaseEncoder = 'frozen' | 'fine-tune';

export interface CaseModelParts {
  /** The MIL heads: one, or an ensemble of the same configuration (the mean of their probabilities is the call). */
  heads: readonly GatedAttentionMil[];
  classNames: string[];
  /** Softmax temperature fitted on the validation cases (1 = none). */
  temperature: number;
  /** 'frozen': reads the cell model's own embeddings; 'fine-tune': reads `encoder`'s. */
  encoderKind: CaseEncoder;
  /** The fine-tuned cell encoder, for 'fine-tune' only (its embeddings, not the cell model's, feed the pooling). */
  encoder: AplNet | null;
  /** Views each cell's embedding averages: 1, or the 8 dihedral views (what it was trained on, so what it must read). */
  embeddingViews: 1 | 8;
  /** The file it was loaded from and that file's SHA-256. */
  file: string;
  sha256: string;
}

/**
 * The case logits of an ensemble of heads: the log of the mean of the heads' softmax probabilities,
 * so softmax of it (at temperature 1) is that mean. One head's logits are returned as they are.
 */
export function ensembleLogits(logitsPerHead: readonly ArrayLike<number>[]): number[] {
  if (logitsPerHead.length === 0) throw new Error('ensembleLogits: no head');
  if (logitsPerHead.length === 1) return Array.from(logitsPerHead[0]);
  const classes = logitsPerHead[0].length;
  const meanProbability = new Float64Array(classes);
  for (const logits of logitsPerHead) {
    if (logits.length !== classes) throw new Error(`ensembleLogits: heads with ${classes} and ${logits.length} classes`);
    caseSoftmax(logits, 1).forEach((p, c) => (meanProbability[c] += p / logitsPerHead.length));
  }
  // A class every head rules out keeps a finite (very negative) score, so the temperature stays defined.
  return Array.from(meanProbability, (p) => Math.log(Math.max(p, 1e-300)));
}

/**
 * One case's output of an ensemble of heads: ensembleLogits, and the mean of the heads' cell
 * weights (still ≥ 0, summing to 1). One head's output is returned as it is.
 */
export function combineHeads(logitsPerHead: readonly ArrayLike<number>[], weightsPerHead: readonly ArrayLike<number>[]): { logits: number[]; weights: number[] } {
  if (logitsPerHead.length === 0 || logitsPerHead.length !== weightsPerHead.length) throw new Error(`combineHeads: ${logitsPerHead.length} heads' logits and ${weightsPerHead.length} heads' weights`);
  const cells = weightsPerHead[0].length;
  const weights = new Array<number>(cells).fill(0);
  for (const w of weightsPerHead) {
    if (w.length !== cells) throw new Error(`combineHeads: heads weighting ${cells} and ${w.length} cells`);
    for (let k = 0; k < cells; k++) weights[k] += w[k] / weightsPerHead.length;
  }
  return { logits: ensembleLogits(logitsPerHead), weights };
}

/** Softmax of logits / T in float64, the case model's probabilities. */
export function caseSoftmax(logits: ArrayLike<number>, temperature: number): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] / temperature);
  const exps = Array.from(logits, (v) => Math.exp(v / temperature - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export class CaseModel {
  readonly heads: readonly GatedAttentionMil[];
  readonly classNames: string[];
  readonly temperature: number;
  readonly encoderKind: CaseEncoder;
  readonly encoder: AplNet | null;
  readonly embeddingViews: 1 | 8;
  readonly file: string;
  readonly sha256: string;

  constructor(parts: CaseModelParts) {
    if (parts.heads.length === 0) throw new Error(`${parts.file}: a case model needs at least one MIL head`);
    const config = JSON.stringify(parts.heads[0].config);
    if (parts.heads.some((head) => JSON.stringify(head.config) !== config)) throw new Error(`${parts.file}: the case model's heads differ in configuration`);
    if (parts.heads[0].config.numClasses !== parts.classNames.length) {
      throw new Error(`${parts.file}: the case model has ${parts.heads[0].config.numClasses} outputs but ${parts.classNames.length} case classes`);
    }
    if ((parts.encoderKind === 'fine-tune') !== (parts.encoder !== null)) {
      throw new Error(`${parts.file}: a ${parts.encoderKind} case model ${parts.encoder ? 'cannot carry' : 'needs'} its own encoder`);
    }
    // A fine-tuned encoder was trained with one head; the other heads never saw its embeddings.
    if (parts.encoder && parts.heads.length > 1) throw new Error(`${parts.file}: a case model with a fine-tuned encoder has one head, not ${parts.heads.length}`);
    this.heads = parts.heads.map((head) => head.eval());
    this.classNames = parts.classNames;
    this.temperature = parts.temperature;
    this.encoderKind = parts.encoderKind;
    this.encoder = parts.encoder ? parts.encoder.eval() : null;
    if (parts.embeddingViews !== 1 && parts.embeddingViews !== 8) throw new Error(`${parts.file}: a case model reads embeddings of 1 or 8 views, not ${String(parts.embeddingViews)}`);
    this.embeddingViews = parts.embeddingViews;
    this.file = parts.file;
    this.sha256 = parts.sha256;
  }

  get embeddingDim(): number {
    return this.heads[0].config.embeddingDim;
  }

  /** Uncalibrated case logits and cell weights for one case's cell embeddings (the cells in any order). */
  scores(embeddings: readonly Float32Array[]): { logits: number[]; weights: number[] } {
    const d = this.embeddingDim;
    if (embeddings.length === 0) throw new Error('a case needs at least one cell to be called; every image of it was left out');
    const flat = new Float32Array(embeddings.length * d);
    embeddings.forEach((e, k) => {
      if (e.length !== d) throw new Error(`cell ${k} has an embedding of length ${e.length}, but ${this.file} reads embeddings of length ${d}: it belongs to another cell model`);
      if (!e.every(Number.isFinite)) throw new Error(`cell ${k}'s embedding holds NaN or Inf, so no case call is made; leave that image out or refer the case`);
      flat.set(e, k * d);
    });
    const device = this.heads[0].parameters()[0]?.device ?? 'cpu';
    const outputs = tidy(() => noGrad(() => {
      const bag = fromTypedArray(flat, [embeddings.length, d]).to({ device });
      return this.heads.map((head) => {
        const out = head.forward(bag);
        return { logits: out.logits.to('float32').to('cpu').data<'float32'>(), weights: out.weights.to('float32').to('cpu').data<'float32'>() };
      });
    }));
    if (outputs.some((out) => !out.logits.every(Number.isFinite) || !out.weights.every(Number.isFinite))) {
      throw new Error(`${this.file} gave a non-finite output (NaN or Inf) for this case, so no case call is made; refer the case and report the run folder`);
    }
    return combineHeads(outputs.map((out) => out.logits), outputs.map((out) => out.weights));
  }

  /** The case call: calibrated probabilities, the predicted class and the weight of every cell. */
  predict(embeddings: readonly Float32Array[]): CasePrediction {
    const { logits, weights } = this.scores(embeddings);
    const probs = caseSoftmax(logits, this.temperature);
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
    return {
      probabilities: Object.fromEntries(this.classNames.map((name, k) => [name, probs[k]])),
      predicted: this.classNames[best],
      confidence: probs[best],
      weights,
    };
  }

  dispose(): void {
    for (const head of this.heads) head.dispose();
    this.encoder?.dispose();
  }
}
