// The answer of a loaded run for one batch, whether the run is one model or an ensemble, with or
// without test-time augmentation. For an ensemble: each member sees the batch in its own
// normalisation, its logits become probabilities at its own temperature, and the ensemble's
// probabilities are their mean; maps are the members' maps (made for the ensemble's call) averaged,
// the embedding is the members' embeddings one after another in member order. What is returned as
// `logits` is what predictionOf turns into calibrated probabilities with the run's temperature: a
// single model's logits, or an ensemble's log-probabilities (temperature 1).
import type { ChannelStats } from '../data/index.js';
import { meanMapOfMembers, type ExplainMethod } from '../explain/index.js';
import type { TtaMode } from '../train/index.js';
import { fromTypedArray, tidy, type Tensor } from '../torch/index.js';
import type { LoadedRun } from './load-run.js';
import { passInMode, reexplainPass, type ModelPass } from './tta-pass.js';

export interface BatchAnswer {
  /** [N, C]: softmax of a row at the run's temperature gives its calibrated probabilities; NaN stays NaN. */
  logits: Float32Array;
  maps: Partial<Record<ExplainMethod, Tensor>>;
  blanked: Partial<Record<ExplainMethod, boolean[]>>;
  embeddings: Float32Array;
  embeddingSize: number;
}

/** x normalised with `from` → the same pixels normalised with `to`: (x·σf + μf − μt) / σt per channel. */
export function renormalize(x: Tensor, from: ChannelStats, to: ChannelStats): Tensor {
  return tidy(() => {
    const scale = fromTypedArray(Float32Array.from(from.std, (s, c) => s / to.std[c]), [1, 3, 1, 1], { device: x.device });
    const shift = fromTypedArray(Float32Array.from(from.mean, (m, c) => (m - to.mean[c]) / to.std[c]), [1, 3, 1, 1], { device: x.device });
    return x.to('float32').mul(scale).add(shift);
  });
}

/** softmax(row / T) in float64; a row with NaN or Inf gives NaN everywhere (never a confident call). */
function calibratedRow(logits: Float32Array, temperature: number): number[] {
  if (!logits.every(Number.isFinite)) return Array.from(logits, () => NaN);
  const scaled = Array.from(logits, (z) => z / temperature);
  const top = Math.max(...scaled);
  const exps = scaled.map((z) => Math.exp(z - top));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** Mean over members of their calibrated probabilities, [N, C] row-major (float64). */
export function meanCalibratedProbabilities(logitsOfMembers: Float32Array[], temperatures: number[], classes: number): Float64Array {
  const n = logitsOfMembers[0].length / classes;
  const mean = new Float64Array(n * classes);
  logitsOfMembers.forEach((logits, m) => {
    for (let i = 0; i < n; i++) {
      calibratedRow(logits.subarray(i * classes, (i + 1) * classes), temperatures[m]).forEach((p, k) => { mean[i * classes + k] += p / logitsOfMembers.length; });
    }
  });
  return mean;
}

/** log p, with p = 0 kept finite (softmax of the result gives p back; NaN stays NaN). */
export function logProbabilities(probabilities: Float64Array): Float32Array {
  return Float32Array.from(probabilities, (p) => Math.log(Math.max(p, 1e-30)));
}

function argmaxRows(values: ArrayLike<number>, classes: number): number[] {
  return Array.from({ length: values.length / classes }, (_, i) => {
    let best = 0;
    for (let k = 1; k < classes; k++) if (values[i * classes + k] > values[i * classes + best]) best = k;
    return best;
  });
}

/** The run's answer for images x [N, 3, S, S], normalised with run.inference's channel statistics. */
export function answerBatch(run: LoadedRun, x: Tensor, methods: readonly ExplainMethod[], tta: TtaMode): BatchAnswer {
  if (!run.members) return passInMode(run.model, x, methods, tta);
  const members = run.members;
  const inputs = members.map((member) => renormalize(x, run.inference.channelStats, member.inference.channelStats));
  const passes: ModelPass[] = [];
  try {
    members.forEach((member, m) => passes.push(passInMode(member.model, inputs[m], methods, tta)));
    const classes = run.classNames.length;
    const probabilities = meanCalibratedProbabilities(passes.map((p) => p.logits), members.map((member) => member.calibration!.temperature), classes);
    const call = argmaxRows(probabilities, classes);
    members.forEach((member, m) => reexplainPass(member.model, inputs[m], passes[m], methods, tta, call));
    const n = call.length;
    const answer: BatchAnswer = { logits: logProbabilities(probabilities), maps: {}, blanked: {}, embeddings: concatenateRows(passes), embeddingSize: passes.reduce((sum, p) => sum + p.embeddingSize, 0) };
    for (const method of [...new Set(methods)]) {
      answer.maps[method] = meanMapOfMembers(passes.map((p) => p.maps[method]!));
      answer.blanked[method] = Array.from({ length: n }, (_, i) => passes.some((p) => p.blanked[method]![i]));
    }
    return answer;
  } finally {
    for (const input of inputs) input.dispose();
    for (const pass of passes) for (const map of Object.values(pass.maps)) map?.dispose();
  }
}

/** Each image's embeddings from every member, one after another in member order: [N, ΣD]. */
function concatenateRows(passes: ModelPass[]): Float32Array {
  const width = passes.reduce((sum, p) => sum + p.embeddingSize, 0);
  const n = passes[0].embeddings.length / passes[0].embeddingSize;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    let offset = i * width;
    for (const p of passes) {
      out.set(p.embeddings.subarray(i * p.embeddingSize, (i + 1) * p.embeddingSize), offset);
      offset += p.embeddingSize;
    }
  }
  return out;
}
