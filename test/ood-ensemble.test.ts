// The check's rules in the prediction core, on hand-made detectors: one model flags above its
// threshold; an ensemble flags an image when any member flags it, each member scoring its own part
// of the concatenated embedding, and reports the largest member score over its threshold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InferenceImage } from '../src/data/index.js';
import { IMAGE_STATISTICS, type OodDetector } from '../src/eval/index.js';
import { oodCheckOf, type LoadedRun } from '../src/run/index.js';
import { close } from './helpers/six-images.js';

const statistics = IMAGE_STATISTICS.length;
const identity = (n: number) => Float64Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0));

/** Embedding part: one class at unit vector (1, 0), identity precision; the statistics part scores 0 for any image. */
function detector(threshold: number): OodDetector {
  return {
    embedding: { dim: 2, means: [Float64Array.from([1, 0])], precision: { n: 2, values: identity(2) }, shrinkage: 0 },
    imageStats: {
      mean: new Float64Array(statistics),
      sd: new Float64Array(statistics).fill(1),
      gaussian: { dim: statistics, means: [new Float64Array(statistics)], precision: { n: statistics, values: new Float64Array(statistics * statistics) }, shrinkage: 0 },
    },
    scales: { embedding: 1, imageStats: 1 },
    threshold,
  };
}

const image: InferenceImage = { x: new Float32Array(3 * 4), shape: [1, 3, 2, 2], pixels: new Uint8Array(12), notes: [] };
const inference = { channelStats: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } };
const part = (threshold: number) => ({ ood: { detector: detector(threshold), record: { embeddingSize: 2 } } });

test('one model: the score is the squared distance of the L2-normalised embedding, flagged above the threshold', () => {
  const run = { inference, ...part(1) } as unknown as LoadedRun;
  // (0, 3) normalises to (0, 1): distance² to (1, 0) is 2.
  const far = oodCheckOf(run, Float32Array.from([0, 3]), image);
  close(far.score, 2);
  assert.deepEqual({ threshold: far.threshold, flagged: far.flagged }, { threshold: 1, flagged: true });
  const near = oodCheckOf(run, Float32Array.from([5, 0]), image);
  close(near.score, 0);
  assert.equal(near.flagged, false);
  assert.equal(oodCheckOf(run, Float32Array.from([Number.NaN, 0]), image).flagged, true);
});

test('an ensemble flags an image when any member flags it, each member reading its own part of the embedding', () => {
  const run = { inference, members: [part(1), part(3)] } as unknown as LoadedRun;
  // Member 0 sees (0, 1): 2 > 1, flagged. Member 1 sees (1, 0): 0.
  const first = oodCheckOf(run, Float32Array.from([0, 1, 1, 0]), image);
  assert.equal(first.flagged, true);
  close(first.score, 2);
  assert.equal(first.threshold, 1);
  // Member 0 sees (1, 0): 0. Member 1 sees (0, 1): 2 < 3, not flagged; score 2/3.
  const neither = oodCheckOf(run, Float32Array.from([1, 0, 0, 1]), image);
  assert.equal(neither.flagged, false);
  close(neither.score, 2 / 3);
  // Member 1 alone flags: distance² of (−1, 0) to (1, 0) is 4 > 3.
  assert.equal(oodCheckOf(run, Float32Array.from([1, 0, -1, 0]), image).flagged, true);
});
