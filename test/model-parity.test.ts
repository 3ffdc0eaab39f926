// Parity with PyTorch: test/reference/aplnet_reference.py builds the same network from the same
// config, loads aplnet's safetensors with strict=True, and must give the same logits and attention
// maps (within 1e-4 in float32) in eval and in train mode (batch statistics, dropout off); for an
// attention-pooling head also its map and per-position evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel, type ModelConfig } from '../src/model/index.js';
import { loadSafetensors, manualSeed, noGrad, rand, randn, saveSafetensors, setNumThreads, tidy, type Tensor } from '../src/torch/index.js';

const THREADS = 2;
const TOLERANCE = 1e-4;
const PYTHON = process.env.APLNET_PYTHON ?? '/usr/bin/python3';
// dist/test/x.js → test/reference/aplnet_reference.py in the source tree.
const REFERENCE = fileURLToPath(new URL('../../test/reference/aplnet_reference.py', import.meta.url));
const torchMissing = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0;

const smallAfterStages: ModelConfig = {
  name: 'parity-after-stages', inputSize: 64, inChannels: 3, stemWidth: 8, stemKernel: 7,
  widths: [8, 16, 24, 32], depths: [1, 2, 1, 1], block: 'basic',
  attention: { placement: 'after-stages', stages: [1, 2], kernelSize: 7, channelReduction: 4 },
  dropout: 0, numClasses: 5, paddingMode: 'zeros', outputStride: 32, head: 'average-pool',
};
const smallEveryBlock: ModelConfig = {
  name: 'parity-every-block', inputSize: 64, inChannels: 3, stemWidth: 8, stemKernel: 7,
  widths: [4, 8, 8], depths: [1, 2, 1], block: 'bottleneck',
  attention: { placement: 'every-block', stages: [], kernelSize: 5, channelReduction: 0 },
  dropout: 0, numClasses: 3, paddingMode: 'zeros', outputStride: 16, head: 'average-pool',
};
// The attention-pooling design: dilated stages (output stride 8), replicate or reflect padding.
const smallAttentionPool: ModelConfig = {
  ...smallAfterStages, name: 'parity-attention-pool', depths: [1, 2, 1, 2], attention: { ...smallAfterStages.attention, stages: [1, 3] },
  paddingMode: 'replicate', outputStride: 8, head: 'attention-pool',
};
const smallAttentionPoolBottleneck: ModelConfig = {
  ...smallEveryBlock, name: 'parity-attention-pool-bottleneck', depths: [1, 2, 2], paddingMode: 'reflect', outputStride: 8, head: 'attention-pool',
};

/** Moves BN statistics and affine parameters away from their identity defaults, so eval mode is a real test. */
function perturbBatchNorm(state: Map<string, Tensor>): void {
  noGrad(() => tidy(() => {
    for (const [key, t] of state) {
      if (key.endsWith('running_mean')) t.copy_(randn(t.shape).mul(0.1));
      else if (key.endsWith('running_var') || (key.endsWith('.weight') && t.ndim === 1)) t.copy_(rand(t.shape).add(0.5));
      else if (key.endsWith('.bias') && t.ndim === 1 && !key.startsWith('head')) t.copy_(randn(t.shape).mul(0.1));
      // The scorer starts at zero (a uniform map): give it weights so the map is a real test.
      else if (key === 'pool.score.weight') t.copy_(randn(t.shape));
    }
  }));
}

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => a.sub(b).abs().amax([...a.shape.keys()]).item());
}

for (const config of [smallAfterStages, smallEveryBlock, smallAttentionPool, smallAttentionPoolBottleneck]) {
  for (const mode of ['eval', 'train'] as const) {
    test(`${config.name} matches the PyTorch reference in ${mode} mode`, () => {
      assert.ok(!torchMissing, `${PYTHON} cannot import torch: run "npm test", which installs Debian's python3-torch (scripts/setup.sh --test)`);
      setNumThreads(THREADS);
      manualSeed(7);
      const dir = mkdtempSync(join(tmpdir(), 'aplnet-parity-'));
      const model = createModel(config);
      try {
        perturbBatchNorm(model.stateDict());
        writeFileSync(join(dir, 'config.json'), JSON.stringify(model.config));
        model.save(join(dir, 'model.safetensors'));
        const input = randn([3, 3, 64, 64]);
        saveSafetensors(join(dir, 'input.safetensors'), { input });
        const run = spawnSync(PYTHON, [REFERENCE, join(dir, 'config.json'), join(dir, 'model.safetensors'), join(dir, 'input.safetensors'), join(dir, 'out.safetensors'), '--mode', mode, '--threads', String(THREADS)], { encoding: 'utf8' });
        assert.equal(run.status, 0, `reference failed:\n${run.stderr}`);
        model.train(mode === 'train');
        const ours = noGrad(() => model.forward(input));
        const reference = loadSafetensors(join(dir, 'out.safetensors')).tensors;
        assert.ok(maxAbsDiff(ours.logits, reference.get('logits')!) < TOLERANCE, 'logits differ');
        assert.equal(ours.attention.length, [...reference.keys()].filter((k) => k.startsWith('attention.')).length);
        ours.attention.forEach((map, i) => {
          assert.ok(maxAbsDiff(map, reference.get(`attention.${i}`)!) < TOLERANCE, `attention map ${i} differs`);
        });
        assert.equal(ours.pooling !== null, reference.has('pooling.attention'));
        if (ours.pooling) {
          assert.ok(maxAbsDiff(ours.pooling.attention, reference.get('pooling.attention')!) < TOLERANCE, 'the pooling map differs');
          assert.ok(maxAbsDiff(ours.pooling.evidence, reference.get('pooling.evidence')!) < TOLERANCE, 'the per-position evidence differs');
        }
        if (mode === 'train') {
          const state = model.stateDict();
          for (const [key, t] of reference) {
            if (key.startsWith('state.')) assert.ok(maxAbsDiff(state.get(key.slice(6))!, t) < TOLERANCE, `${key.slice(6)} updated differently`);
          }
        }
        input.dispose();
        for (const t of reference.values()) t.dispose();
        ours.logits.dispose();
        for (const t of [...ours.attention]) t.dispose();
        if (ours.pooling) for (const t of [ours.pooling.attention, ours.pooling.evidence]) t.dispose();
      } finally {
        model.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
