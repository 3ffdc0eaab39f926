// The case model's pooling: gated attention multiple-instance learning (Ilse, Tomczak, Welling,
// "Attention-based Deep Multiple Instance Learning", ICML 2018). A case is a bag of cells; each
// cell's embedding h_k (what the cell model's head reads) is standardised and projected,
//   x_k = ReLU(P · (h_k − mean) / scale),
// scored by the gated attention
//   a_k = softmax_k( wᵀ (tanh(V x_k) ⊙ sigm(U x_k)) ),
// and the case is classified from the weighted mean z = Σ_k a_k x_k by one linear layer. The weights
// a_k are the case-level explanation (which cells drove the call), they sum to 1 over the bag, and
// nothing depends on the order of the cells. Names follow PyTorch's state_dict
// (test/reference/cases_mil_reference.py builds the same module).
import { Dropout, Linear, Module } from '../nn/index.js';
import { cat, fromTypedArray, noGrad, ones, tidy, zeros, type Tensor } from '../torch/index.js';

export interface CaseMilConfig {
  /** D: length of a cell embedding (the cell model's embedding size). */
  embeddingDim: number;
  /** Width of the projected cell features the attention scores and the classifier reads. */
  hiddenDim: number;
  /** L: width of the gated attention's hidden layer. */
  attentionDim: number;
  numClasses: number;
  /** Dropout on the projected cell features, in training only. */
  dropout: number;
  /**
   * What the classifier reads: the attention-weighted mean of the cell features ('attention', Ilse
   * et al.), or that beside the plain mean of the cell features ('attention-mean'), which keeps
   * how common a kind of cell is in the case, not only which cells stand out. Default 'attention'.
   */
  pooling?: CaseMilPooling;
}

export type CaseMilPooling = 'attention' | 'attention-mean';

/** Small on purpose: a few dozen training cases cannot fit more. */
export const CASE_MIL_DEFAULTS = { hiddenDim: 64, attentionDim: 32, dropout: 0.25 } as const;

export interface CaseMilOutput {
  /** [C]: the case's class scores (softmax them, with the fitted temperature, for probabilities). */
  logits: Tensor;
  /** [K]: one weight per cell, ≥ 0, summing to 1. */
  weights: Tensor;
}

export function checkCaseMilConfig(config: CaseMilConfig, source = 'case model config'): CaseMilConfig {
  for (const key of ['embeddingDim', 'hiddenDim', 'attentionDim', 'numClasses'] as const) {
    if (!Number.isInteger(config[key]) || config[key] < 1) throw new Error(`${source}: ${key} must be a positive integer, got ${config[key]}`);
  }
  if (config.numClasses < 2) throw new Error(`${source}: a case model needs at least 2 classes, got ${config.numClasses}`);
  if (!(config.dropout >= 0 && config.dropout < 1)) throw new Error(`${source}: dropout must be in [0, 1), got ${config.dropout}`);
  if (config.pooling !== undefined && config.pooling !== 'attention' && config.pooling !== 'attention-mean') throw new Error(`${source}: pooling must be "attention" or "attention-mean", got ${JSON.stringify(config.pooling)}`);
  return config;
}

export class GatedAttentionMil extends Module {
  readonly project: Linear;
  readonly attentionV: Linear;
  readonly attentionU: Linear;
  readonly attentionW: Linear;
  readonly classifier: Linear;
  readonly dropout: Dropout;

  constructor(readonly config: CaseMilConfig) {
    super();
    checkCaseMilConfig(config);
    const { embeddingDim, hiddenDim, attentionDim, numClasses } = config;
    // Standardisation of the embeddings, fitted on the training cells (setInputStatistics): frozen
    // features have very different scales per channel, and the small layers train far better on z-scores.
    this.registerBuffer('input_mean', zeros([embeddingDim]));
    this.registerBuffer('input_scale', ones([embeddingDim]));
    this.project = this.registerModule('project', new Linear(embeddingDim, hiddenDim));
    this.attentionV = this.registerModule('attention_V', new Linear(hiddenDim, attentionDim));
    this.attentionU = this.registerModule('attention_U', new Linear(hiddenDim, attentionDim));
    // No bias: the softmax over cells is blind to a constant.
    this.attentionW = this.registerModule('attention_w', new Linear(attentionDim, 1, { bias: false }));
    this.classifier = this.registerModule('classifier', new Linear(config.pooling === 'attention-mean' ? 2 * hiddenDim : hiddenDim, numClasses));
    this.dropout = this.registerModule('dropout', new Dropout(config.dropout));
  }

  /** Sets the standardisation from the training cells' mean and standard deviation (a zero deviation counts as 1). */
  setInputStatistics(mean: Float32Array, std: Float32Array): void {
    const d = this.config.embeddingDim;
    if (mean.length !== d || std.length !== d) throw new Error(`GatedAttentionMil: statistics of length ${mean.length}/${std.length} for embeddings of length ${d}`);
    const scale = Float32Array.from(std, (s) => (s > 1e-6 && Number.isFinite(s) ? s : 1));
    noGrad(() => tidy(() => {
      this.buffer('input_mean').copy_(fromTypedArray(Float32Array.from(mean), [d]));
      this.buffer('input_scale').copy_(fromTypedArray(scale, [d]));
    }));
  }

  /** The projected cell features x_k [K, hiddenDim] (before dropout). */
  private features(embeddings: Tensor): Tensor {
    return tidy(() => this.project.forward(embeddings.sub(this.buffer('input_mean')).div(this.buffer('input_scale'))).relu());
  }

  /** One bag: embeddings [K, D] → case logits [C] and cell weights [K]. */
  forward(embeddings: Tensor): CaseMilOutput {
    const shape = embeddings.shape;
    if (shape.length !== 2 || shape[1] !== this.config.embeddingDim) {
      throw new Error(`GatedAttentionMil.forward: expected one bag of cell embeddings [K, ${this.config.embeddingDim}], got [${shape}]`);
    }
    if (shape[0] < 1) throw new Error('GatedAttentionMil.forward: a case needs at least one cell');
    return tidy(() => {
      const x = this.dropout.forward(this.features(embeddings));
      const gate = this.attentionV.forward(x).tanh().mul(this.attentionU.forward(x).sigmoid());
      const weights = this.attentionW.forward(gate).reshape([shape[0]]).softmax(0);
      const attended = weights.unsqueeze(0).matmul(x);
      const pooled = this.config.pooling === 'attention-mean' ? cat([attended, x.mean(0, true)], 1) : attended;
      const logits = this.classifier.forward(pooled).reshape([this.config.numClasses]);
      return { logits, weights };
    });
  }
}
