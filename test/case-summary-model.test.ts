// The case summary of a run with a case model: the call and the cell weights are the case model's,
// over the usable cells only, and it reads the embeddings it was trained on (one view of the cell
// model, or its own fine-tuned encoder), embedding the cells' pixels again whenever the prediction
// core's embedding is not exactly that (one view, or the mean of the eight dihedral views, as the case
// model was trained).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferencePreprocessing } from '../src/data/index.js';
import { writeNormalizedChw } from '../src/data/index.js';
import { CaseModel, createModel, GatedAttentionMil, presetConfig, type AplNet } from '../src/model/index.js';
import { dihedralBatch, fromTypedArray, manualSeed, meanOfViewRows, noGrad, tidy } from '../src/torch/index.js';
import { withTrainedLookingWeights } from './helpers/trained-looking.js';
import { attachCaseEmbeddings, summarizeCase, type CaseSummaryRun, type ImagePrediction } from '../src/run/index.js';

const CLASSES = ['erythroblastic', 'left-shift', 'normal'];
const SIDE = 32;
const inference = { channelStats: { mean: [0.6, 0.5, 0.7], std: [0.2, 0.25, 0.15] } } as unknown as InferencePreprocessing;

function tinyCellModel(seed: number): AplNet {
  manualSeed(seed);
  // The default preset's layout, narrowed: the case summary only needs some embedding of the pixels.
  return createModel({ ...presetConfig('aplnet-s-ap', CLASSES.length), widths: [8, 8, 16, 16] }).eval();
}

function caseModel(embeddingDim: number, encoder: AplNet | null, embeddingViews: 1 | 8 = 1): CaseModel {
  manualSeed(11);
  const mil = new GatedAttentionMil({ embeddingDim, hiddenDim: 8, attentionDim: 6, numClasses: CLASSES.length, dropout: 0 });
  return new CaseModel({ heads: [mil], classNames: CLASSES, temperature: 1.2, encoderKind: encoder ? 'fine-tune' : 'frozen', encoder, embeddingViews, file: 'case-model.safetensors', sha256: '0'.repeat(64) });
}

/** A cell with random pixels; its probabilities are made up (the case model does not read them). */
function cell(i: number, embedding?: Float32Array, extra: Partial<ImagePrediction> = {}): ImagePrediction {
  const pixels = Uint8Array.from({ length: SIDE * SIDE * 3 }, (_, k) => (k * 37 + i * 101) % 256);
  const p = [0.1, 0.8, 0.1];
  return { file: `c${i}.png`, ok: true, probabilities: { erythroblastic: p[0], 'left-shift': p[1], normal: p[2] }, predicted: 'left-shift', confidence: 0.8, refer: false, referReason: null, notes: [], pixels, side: SIDE, maps: {}, embedding, ...extra };
}

/** What the case model should read: `encoder`'s embedding of each cell's normalised pixels (one view, or the mean of the eight). */
function embed(encoder: AplNet, cells: ImagePrediction[], views: 1 | 8 = 1): Float32Array[] {
  const plane = 3 * SIDE * SIDE;
  const x = new Float32Array(cells.length * plane);
  cells.forEach((c, i) => writeNormalizedChw(c.pixels, inference.channelStats, x, i * plane));
  const flat = tidy(() => noGrad(() => {
    const images = fromTypedArray(x, [cells.length, 3, SIDE, SIDE]);
    if (views === 1) return encoder.forward(images).embedding.data<'float32'>();
    const e = encoder.forward(dihedralBatch(images)).embedding;
    return meanOfViewRows(e.data<'float32'>(), e.shape[1]);
  }));
  const d = flat.length / cells.length;
  return cells.map((_, i) => flat.slice(i * d, (i + 1) * d));
}

function runWith(model: AplNet, cases: CaseModel, tta: 'on' | 'off'): CaseSummaryRun & { model: AplNet; inference: InferencePreprocessing } {
  return { classNames: CLASSES, calibration: { referralThreshold: 0.7, tta } as CaseSummaryRun['calibration'], caseLevel: { baseline: 'mean-probability', model: cases }, model, inference };
}

test('a frozen case model makes the call from the prediction core embeddings of the usable cells; its attention ranks them', () => {
  const cellModel = tinyCellModel(1);
  const plain = Array.from({ length: 11 }, (_, i) => cell(i));
  const embeddings = embed(cellModel, plain);
  const cells = plain.map((c, i) => ({ ...c, embedding: embeddings[i] }));
  const model = caseModel(embeddings[0].length, null);
  const notACell = cell(99, embeddings[0].map((v) => v * 50), { ood: { score: 40, threshold: 3, flagged: true } });
  const summary = summarizeCase(runWith(cellModel, model, 'off'), [...cells, notACell]);
  const expected = model.predict(embeddings);
  assert.ok(summary.call);
  assert.equal(summary.call.source, 'case-model');
  assert.equal(summary.call.label, expected.predicted);
  for (const name of CLASSES) assert.ok(Math.abs(summary.call.probabilities[name] - expected.probabilities[name]) < 1e-9, name);
  assert.equal(summary.ranked.length, 11, 'the out-of-distribution image is not given to the case model');
  const byFile = new Map(summary.ranked.map((r) => [r.file, r.weight]));
  cells.forEach((c, i) => assert.ok(Math.abs(byFile.get(c.file)! - expected.weights[i]) < 1e-9, c.file));
  for (let i = 1; i < summary.ranked.length; i++) assert.ok(summary.ranked[i - 1].weight >= summary.ranked[i].weight);
  model.dispose();
  cellModel.dispose();
});

test('under TTA the averaged embeddings are not what the case model read in training: the cells are embedded again, one view', () => {
  const cellModel = tinyCellModel(2);
  const plain = Array.from({ length: 10 }, (_, i) => cell(i));
  const oneView = embed(cellModel, plain);
  const model = caseModel(oneView[0].length, null);
  const averaged = plain.map((c, i) => ({ ...c, embedding: oneView[i].map((v) => v + 1) }));
  const summary = summarizeCase(runWith(cellModel, model, 'on'), averaged);
  const expected = model.predict(oneView);
  for (const name of CLASSES) assert.ok(Math.abs(summary.call!.probabilities[name] - expected.probabilities[name]) < 1e-6, name);
  model.dispose();
  cellModel.dispose();
});

test('a case model trained on 8-view embeddings reuses the core embeddings under TTA, and embeds the 8 views itself when the core ran one view', () => {
  // The full-width preset: the narrowed one's embedding barely depends on the pixels, so its views agree.
  manualSeed(7);
  const cellModel = createModel(presetConfig('aplnet-s-ap', CLASSES.length)).eval();
  // A fresh network's embeddings are ~1e-16 (zero-initialised residual branches, a uniform pooling
  // map): give the scorer and the batch norms trained-looking values so the views differ.
  withTrainedLookingWeights(cellModel);
  const plain = Array.from({ length: 9 }, (_, i) => cell(i));
  const eightViews = embed(cellModel, plain, 8);
  const oneView = embed(cellModel, plain, 1);
  const model = caseModel(eightViews[0].length, null, 8);
  const expected = model.predict(eightViews);
  // How far a one-view reading would be from the right one: the tolerance below must be far smaller.
  const wrong = model.predict(oneView);
  const gap = Math.max(...CLASSES.map((name) => Math.abs(wrong.probabilities[name] - expected.probabilities[name])));
  assert.ok(gap > 1e-6, `one view and eight give the same call (gap ${gap}): the test would prove nothing`);
  // TTA on: the core's embedding is the 8-view mean, read as it is (a marker shows it is not recomputed).
  const marked = plain.map((c, i) => ({ ...c, embedding: eightViews[i].map((v) => v + 0.5) }));
  const reused = summarizeCase(runWith(cellModel, model, 'on'), marked);
  const fromMarked = model.predict(marked.map((c) => c.embedding!));
  for (const name of CLASSES) assert.ok(Math.abs(reused.call!.probabilities[name] - fromMarked.probabilities[name]) < 1e-9, name);
  // TTA off: the core's one-view embedding is not what the model read; the pixels are embedded in 8 views.
  const single = plain.map((c, i) => ({ ...c, embedding: oneView[i] }));
  const again = summarizeCase(runWith(cellModel, model, 'off'), single);
  for (const name of CLASSES) assert.ok(Math.abs(again.call!.probabilities[name] - expected.probabilities[name]) < gap / 20, `${name}: the 8-view call was not made (off by ${Math.abs(again.call!.probabilities[name] - expected.probabilities[name])}, one view is ${gap} away)`);
  model.dispose();
  cellModel.dispose();
});

test('a fine-tuned case model reads its own encoder embeddings of the pixels, not the cell model embeddings', () => {
  const cellModel = tinyCellModel(3);
  const encoder = tinyCellModel(4);
  const plain = Array.from({ length: 10 }, (_, i) => cell(i));
  const own = embed(encoder, plain);
  const model = caseModel(own[0].length, encoder);
  const cells = plain.map((c, i) => ({ ...c, embedding: embed(cellModel, [c])[0] }));
  const summary = summarizeCase(runWith(cellModel, model, 'off'), cells);
  const expected = model.predict(own);
  for (const name of CLASSES) assert.ok(Math.abs(summary.call!.probabilities[name] - expected.probabilities[name]) < 1e-6, name);
  model.dispose();
  cellModel.dispose();
});

test('case embeddings attached while the pixels are there give the same call once the pixels are dropped; without them it is an error', () => {
  const cellModel = tinyCellModel(5);
  const encoder = tinyCellModel(6);
  const cells = Array.from({ length: 10 }, (_, i) => cell(i));
  const model = caseModel(embed(encoder, cells.slice(0, 1))[0].length, encoder);
  const run = runWith(cellModel, model, 'off');
  const withPixels = summarizeCase(run, cells);
  attachCaseEmbeddings(run, cells);
  const kept = cells.map((c) => ({ ...c, pixels: new Uint8Array(0), side: 0 }));
  const later = summarizeCase(run, kept);
  for (const name of CLASSES) assert.ok(Math.abs(later.call!.probabilities[name] - withPixels.call!.probabilities[name]) < 1e-9, name);
  assert.deepEqual(later.ranked.map((r) => r.file), withPixels.ranked.map((r) => r.file));
  const bare = kept.map(({ caseEmbedding: _e, ...c }) => c);
  assert.throws(() => summarizeCase(run, bare), /c0\.png: the case model reads an embedding of the cell's pixels, but this result carries no pixels; attach the case embeddings/);
  model.dispose();
  cellModel.dispose();
});
