// The attention-pooling head: its logits are exactly the map-weighted sum of per-position evidence,
// its map is a distribution at 1/8 of the input side, a blank image gives a flat map (and zero padding
// is what breaks that), and configs written before the head existed still load as the CBAM design.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explain, predictAndExplain } from '../src/explain/index.js';
import { createModel, describePreset, parseModelConfig, presetConfig } from '../src/model/index.js';
import { cat, full, manualSeed, memoryInfo, noGrad, randn, setNumThreads, tidy, type Tensor } from '../src/torch/index.js';
import { coefficientsOfVariation, withTrainedLookingWeights } from './helpers/trained-looking.js';

setNumThreads(2);

function maxAbs(t: Tensor): number {
  return tidy(() => t.abs().amax([...t.shape.keys()]).item());
}

/** Mid-grey, white and black images after aplnet's per-channel normalisation (the PBC statistics). */
function blankImages(side: number): Tensor {
  const mean = [0.874, 0.749, 0.72];
  const std = [0.16, 0.186, 0.079];
  return tidy(() => cat([128, 255, 0].map((v) => cat(mean.map((m, c) => full([1, 1, side, side], (v / 255 - m) / std[c])), 1)), 0));
}

test('logits are exactly Σ attention · evidence, in train mode (dropout on) and in eval mode', () => {
  manualSeed(2);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 5));
  try {
    for (const training of [true, false]) {
      model.train(training);
      noGrad(() => tidy(() => {
        const { logits, pooling } = model.forward(randn([3, 3, 144, 144]));
        assert.ok(pooling, 'an attention-pool model returns its pooling');
        assert.deepEqual(pooling.attention.shape, [3, 1, 18, 18]);
        assert.deepEqual(pooling.evidence.shape, [3, 5, 18, 18]);
        const recomputed = pooling.evidence.mul(pooling.attention).sum([2, 3]);
        assert.ok(maxAbs(logits.sub(recomputed)) < 1e-5, `${training ? 'train' : 'eval'}: logits differ from Σ a·E`);
        // In eval mode the evidence is the head applied at each position of the un-dropped features.
        assert.ok(maxAbs(pooling.attention.sum([1, 2, 3]).sub(1)) < 1e-5, 'the map does not sum to 1 over the positions');
        assert.ok(maxAbs(pooling.attention.clamp(null, 0)) === 0, 'the map has negative weights');
      }));
    }
  } finally {
    model.dispose();
  }
});

test('the embedding is what the head reads: in eval mode the logits are the linear head applied to it', () => {
  manualSeed(4);
  const ap = withTrainedLookingWeights(createModel('aplnet-s-ap', 5)).eval();
  const avg = withTrainedLookingWeights(createModel('aplnet-s', 5)).eval();
  try {
    noGrad(() => tidy(() => {
      const x = randn([2, 3, 96, 96]);
      for (const model of [ap, avg]) {
        const { logits, embedding } = model.forward(x);
        assert.equal(embedding.shape[0], 2);
        // Σ a·(W·F + b) = W·(Σ a·F) + b because the map sums to 1: the pooled features are the embedding.
        const head = Object.fromEntries(model.head.namedParameters());
        const weight = head.weight.reshape([5, embedding.shape[1]]);
        const fromEmbedding = embedding.matmul(weight.permute([1, 0])).add(head.bias);
        assert.ok(maxAbs(logits.sub(fromEmbedding)) < 1e-4, `${model.config.head}: logits differ from head(embedding)`);
      }
    }));
  } finally {
    ap.dispose();
    avg.dispose();
  }
});

test('the map is not uniform on a real-looking input once the scorer has weights', () => {
  manualSeed(4);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 3)).eval();
  try {
    const cv = noGrad(() => tidy(() => coefficientsOfVariation(model.forward(randn([2, 3, 144, 144])).pooling!.attention)));
    assert.ok(cv.every((v) => v > 0.1), `maps of noise images are nearly flat (CV ${cv.join(', ')}): the test would prove nothing`);
  } finally {
    model.dispose();
  }
});

test('constant, white and black images give a flat map; with zero padding the border makes them not flat', () => {
  manualSeed(6);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 8)).eval();
  const zeroPadded = createModel({ ...model.config, paddingMode: 'zeros' }).eval();
  try {
    zeroPadded.loadStateDict(model.stateDict());
    tidy(() => {
      const images = blankImages(144);
      const flat = coefficientsOfVariation(noGrad(() => model.forward(images)).pooling!.attention);
      assert.ok(flat.every((v) => v < 0.05), `replicate padding: CV ${flat.join(', ')}`);
      const shown = explain(model, images, { method: 'attention-pool' });
      assert.ok(coefficientsOfVariation(shown).every((v) => v < 0.05), 'the upsampled, scaled map is not flat');
      // The cause, pinned: the same weights with zero padding see a frame around the image.
      const framed = coefficientsOfVariation(noGrad(() => zeroPadded.forward(images)).pooling!.attention);
      assert.ok(framed.some((v) => v > 0.05), `zero padding gave flat maps too (CV ${framed.join(', ')}): the padding test proves nothing`);
    });
  } finally {
    model.dispose();
    zeroPadded.dispose();
  }
});

test("explain 'attention-pool': [N, 1, H, W] in [0, 1], the pooling map upsampled and divided by its maximum", () => {
  manualSeed(8);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 4)).train();
  try {
    tidy(() => {
      const images = randn([2, 3, 144, 144]);
      const maps = explain(model, images, { method: 'attention-pool' });
      assert.deepEqual(maps.shape, [2, 1, 144, 144]);
      assert.equal(model.training, true, 'explain left the model in eval mode');
      const values = maps.toArray();
      assert.ok(values.every((v) => v >= 0 && v <= 1), 'values outside [0, 1]');
      const pixels = 144 * 144;
      for (let i = 0; i < 2; i++) assert.ok(Math.max(...values.slice(i * pixels, (i + 1) * pixels)) > 0.999, 'per-image maximum is not 1');
      // Shares of mass are the pooling weights' own: the scale is a division, with no offset.
      const pooled = noGrad(() => model.eval().forward(images)).pooling!.attention;
      model.train();
      const topLeftShare = maps.slice(2, 0, 72).slice(3, 0, 72).sum([1, 2, 3]).div(maps.sum([1, 2, 3])).toArray();
      const pooledShare = pooled.slice(2, 0, 9).slice(3, 0, 9).sum([1, 2, 3]).toArray();
      topLeftShare.forEach((share, i) => assert.ok(Math.abs(share - pooledShare[i]) < 0.02, `quarter share ${share} vs pooling weight ${pooledShare[i]}`));
    });
  } finally {
    model.dispose();
  }
});

test("'attention-pool' through predictAndExplain: the same map as explain, NaN images blanked; an average-pool model has none", () => {
  manualSeed(9);
  const model = withTrainedLookingWeights(createModel('aplnet-s-ap', 3));
  const cbam = createModel('aplnet-s', 3);
  try {
    tidy(() => {
      const images = randn([2, 3, 96, 96]);
      noGrad(() => images.select(0, 1).copy_(full([3, 96, 96], NaN)));
      const result = predictAndExplain(model, images, ['attention-pool', 'gradcam']);
      assert.deepEqual(result.blanked['attention-pool'], [false, true]);
      const pixels = 96 * 96;
      const values = result.maps['attention-pool']!.toArray();
      assert.deepEqual(values.slice(0, pixels), explain(model, images, { method: 'attention-pool' }).toArray().slice(0, pixels));
      assert.ok(values.slice(pixels).every((v) => v === 0), 'the NaN image has a map');
      assert.throws(() => predictAndExplain(cbam, images, ['attention-pool']), /no attention-pooling head/);
    });
    const before = memoryInfo().liveTensors;
    const maps = explain(model, randn([1, 3, 64, 64]), { method: 'attention-pool' });
    assert.equal(memoryInfo().liveTensors - before, 2, 'explain keeps only the input and its map');
    maps.dispose();
  } finally {
    model.dispose();
    cbam.dispose();
  }
});

test('a config.json written before the head existed loads as the CBAM design, with the same weights file', () => {
  const model = createModel('aplnet-s', 8);
  const old = JSON.parse(JSON.stringify(model.config)) as Record<string, unknown>;
  delete old.paddingMode;
  delete old.outputStride;
  delete old.head;
  const parsed = parseModelConfig(old, 'old/config.json');
  assert.equal(parsed.paddingMode, 'zeros');
  assert.equal(parsed.outputStride, 32);
  assert.equal(parsed.head, 'average-pool');
  const rebuilt = createModel(parsed);
  try {
    assert.deepEqual([...rebuilt.stateDict().keys()], [...model.stateDict().keys()]);
    rebuilt.loadStateDict(model.stateDict());
    assert.equal(rebuilt.pool, null);
    assert.equal(rebuilt.macsPerImage(), model.macsPerImage());
  } finally {
    model.dispose();
    rebuilt.dispose();
  }
  assert.throws(() => parseModelConfig({ ...presetConfig('aplnet-s', 2), head: 'max-pool' }, 'run/config.json'), /run\/config.json.*"head" is "max-pool"/);
  assert.throws(() => parseModelConfig({ ...presetConfig('aplnet-s', 2), paddingMode: 'circular' }), /"paddingMode" is "circular"/);
  assert.throws(() => parseModelConfig({ ...presetConfig('aplnet-s', 2), outputStride: 12 }), /"outputStride" is 12/);
});

test('the attention-pool presets: map at 1/8 of the input, the CBAM body dilated, MACs counted from the layers', () => {
  for (const name of ['aplnet-s-ap', 'aplnet-m-ap']) {
    const ap = describePreset(name, 8);
    const cbam = describePreset(name.replace(/-ap$/, ''), 8);
    assert.equal(ap.poolingSide, ap.inputSize / 8, name);
    assert.deepEqual(ap.attentionSides, [ap.inputSize / 8, ap.inputSize / 8], name);
    assert.equal(cbam.poolingSide, null);
    // Same layers, same parameters, except the head's 1×1 scorer (D weights).
    const channels = name === 'aplnet-s-ap' ? 192 : 512;
    assert.equal(ap.params, cbam.params + channels, name);
  }
  // aplnet-s-ap by hand: stem and stages 0–1 as aplnet-s; stages 2 and 3 at 18×18; head at 18×18.
  const at18 = 18 * 18;
  const stem = 3 * 24 * 49 * 72 * 72;
  const stage0 = 2 * 24 * 24 * 9 * 36 * 36;
  const stage1 = (24 * 48 * 9 + 48 * 48 * 9 + 24 * 48) * at18;
  const stage2 = (48 * 96 * 9 + 96 * 96 * 9 + 48 * 96) * at18;
  const stage3 = (96 * 192 * 9 + 192 * 192 * 9 + 96 * 192) * at18;
  const gates = 2 * 98 * at18;
  const head = (192 + 192 * 8) * at18;
  assert.equal(describePreset('aplnet-s-ap', 8).macs, stem + stage0 + stage1 + stage2 + stage3 + gates + head);
});
