// --attention-entropy: the attention-pool map's normalised entropy as a loss term, for a sharper map
// (issue 10's lever). The measure on maps with known answers, its gradient sharpening a map, and the
// option end to end (refused for a preset without an attention-pool head).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AttentionPool } from '../src/model/index.js';
import { attentionEntropy } from '../src/train/index.js';
import { parseTrainingConfig, TRAINING_DEFAULTS } from '../src/train/training-config.js';
import { AdamW, full, manualSeed, randn, tensor, tidy } from '../src/torch/index.js';
import { aplnet, tinyDataset, trainArgs } from './helpers/tiny-run.js';

const root = mkdtempSync(join(tmpdir(), 'aplnet-attention-entropy-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('normalised entropy: 1 for a uniform map, 0 for a map on one position, ln 2 / ln 4 for two of four', () => {
  assert.ok(Math.abs(attentionEntropy(full([2, 1, 3, 3], 1 / 9)).item() - 1) < 1e-6);
  assert.ok(attentionEntropy(tensor([[[[1, 0], [0, 0]]]])).item() < 1e-6);
  assert.ok(Math.abs(attentionEntropy(tensor([[[[0.5, 0.5], [0, 0]]]])).item() - 0.5) < 1e-6);
  assert.equal(TRAINING_DEFAULTS.attentionEntropy, 0, 'off by default');
  assert.throws(() => parseTrainingConfig({ data: 'x', attentionEntropy: -1 }), /attention-entropy|attentionEntropy/);
});

test('its gradient sharpens an attention-pool map', () => {
  manualSeed(7);
  const pool = new AttentionPool(4);
  tidy(() => pool.score.weight.copy_(randn([1, 4, 1, 1]).mul(0.1)));
  const features = randn([3, 4, 6, 6]);
  const entropy = (): number => tidy(() => attentionEntropy(pool.forward(features)).item());
  const before = entropy();
  const opt = new AdamW(pool.parameters(), { lr: 0.05, weightDecay: 0 });
  for (let i = 0; i < 20; i++) {
    tidy(() => {
      opt.zeroGrad();
      attentionEntropy(pool.forward(features)).backward();
      opt.stepOnce();
    });
  }
  assert.ok(entropy() < before - 0.05, `entropy ${before} → ${entropy()}`);
});

test('aplnet train --attention-entropy: recorded in the run, and refused for a preset that pools by average', () => {
  const data = tinyDataset(root, 6);
  const out = join(root, 'ap');
  const trained = aplnet(trainArgs(data, out, root, '--epochs', '1', '--size', '48', '--attention-entropy', '0.5'));
  assert.equal(trained.status, 0, trained.stderr);
  assert.equal(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training.attentionEntropy, 0.5);
  const refused = aplnet(trainArgs(data, join(root, 'cbam'), root, '--epochs', '1', '--size', '48', '--model', 'aplnet-s', '--attention-entropy', '0.5'));
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--attention-entropy 0\.5 needs a preset with an attention-pooling head/);
});
