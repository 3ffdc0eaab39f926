import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel, describePreset, parseModelConfig, presetConfig, presetNames } from '../src/model/index.js';
import { manualSeed, memoryInfo, noGrad, randn, setNumThreads, tidy } from '../src/torch/index.js';

setNumThreads(2);

test('aplnet-s gives logits [N, classes] and attention maps at 1/8 and 1/16 of the input side', () => {
  manualSeed(0);
  const model = createModel('aplnet-s', 8).eval();
  try {
    noGrad(() => tidy(() => {
      const { logits, attention } = model.forward(randn([2, 3, 144, 144]));
      assert.deepEqual(logits.shape, [2, 8]);
      assert.deepEqual(attention.map((m) => m.shape), [[2, 1, 18, 18], [2, 1, 9, 9]]);
      for (const m of attention) {
        const values = m.toArray();
        // float32 sigmoid saturates to exactly 0 or 1 beyond |x| ≈ 17, so the closed interval is the contract.
        assert.ok(values.every((v) => v >= 0 && v <= 1), 'attention maps come out of a sigmoid');
      }
    }));
    assert.deepEqual(model.attentionSides(), [18, 9]);
  } finally {
    model.dispose();
  }
});

test('every preset puts its finest attention map at ≥ 1/8 of the input side, and documents params and MACs', () => {
  for (const name of presetNames()) {
    const summary = describePreset(name, 8);
    assert.ok(Math.max(...summary.attentionSides) >= summary.inputSize / 8, `${name}: finest map ${Math.max(...summary.attentionSides)} px at ${summary.inputSize} px input`);
    assert.ok(summary.params > 0 && summary.macs > 0);
  }
});

test('MACs are counted from the layers: aplnet-m is ResNet-18 plus two small attention convs', () => {
  const m = describePreset('aplnet-m', 1000);
  // torchvision's ResNet-18 at 224 px: 1.814 G multiply-adds (conv + fc). Each 7×7×2 attention conv adds 98·h·w.
  const resnet18 = 1_814_073_344;
  assert.equal(m.macs, resnet18 + 98 * 28 * 28 + 98 * 14 * 14);
  assert.equal(m.params, 11_689_512 + 2 * (98 + 2)); // ResNet-18 + (conv weight + BN γ, β) per attention module
});

test('inside-every-block placement gives one map per block; bottleneck blocks expand 4×', () => {
  const config = { ...presetConfig('aplnet-s', 3), widths: [8, 16], depths: [2, 1], block: 'bottleneck' as const, inputSize: 64,
    attention: { placement: 'every-block' as const, stages: [], kernelSize: 3, channelReduction: 4 } };
  const model = createModel(config);
  try {
    noGrad(() => tidy(() => {
      const { logits, attention } = model.forward(randn([1, 3, 64, 64]));
      assert.deepEqual(logits.shape, [1, 3]);
      assert.deepEqual(attention.map((m) => m.shape.slice(2)), [[16, 16], [16, 16], [8, 8]]);
    }));
    assert.ok(model.stateDict().has('stages.0.0.attention.channel.fc1.weight'));
    assert.deepEqual(model.head.weight.shape, [3, 64]);
  } finally {
    model.dispose();
  }
});

test('the config survives JSON and rebuilds a model with the same state dict keys', () => {
  const model = createModel('aplnet-s', 5);
  const json = JSON.parse(JSON.stringify(model.config));
  const rebuilt = createModel(parseModelConfig(json, 'config.json'));
  try {
    assert.deepEqual([...rebuilt.stateDict().keys()], [...model.stateDict().keys()]);
    rebuilt.loadStateDict(model.stateDict());
    for (const key of ['stem.0.weight', 'stages.0.0.conv1.weight', 'stages.1.0.downsample.0.weight', 'attention.0.conv.weight', 'attention.1.bn.running_var', 'head.weight']) {
      assert.ok(model.stateDict().has(key), `missing ${key}`);
    }
  } finally {
    model.dispose();
    rebuilt.dispose();
  }
});

test('bad configs and inputs are refused with the field or shape named', () => {
  assert.throws(() => parseModelConfig({ ...presetConfig('aplnet-s', 2), depths: [1, 1] }, 'run/config.json'), /run\/config.json.*"depths"/);
  assert.throws(() => parseModelConfig({ ...presetConfig('aplnet-s', 2), attention: { placement: 'after-stages', stages: [7], kernelSize: 7, channelReduction: 0 } }), /attention.stages/);
  assert.throws(() => createModel('aplnet-xl', 2), /unknown model preset "aplnet-xl"/);
  assert.throws(() => createModel('aplnet-s'), /number of classes/);
  const model = createModel('aplnet-s', 2);
  try {
    assert.throws(() => tidy(() => model.forward(randn([1, 1, 32, 32]))), /expected images \[N, 3, H, W\], got \[1,1,32,32\]/);
    assert.throws(() => tidy(() => model.forward(randn([1, 3, 32, 32]), { keepActivations: ['stage9'] })), /unknown activation/);
  } finally {
    model.dispose();
  }
});

test('forward frees its intermediates: only the returned tensors stay alive', () => {
  const model = createModel('aplnet-s', 4).eval();
  const input = randn([2, 3, 144, 144]);
  const before = memoryInfo().liveTensors;
  const out = noGrad(() => model.forward(input));
  // logits, the embedding and each attention map.
  assert.equal(memoryInfo().liveTensors - before, 2 + out.attention.length);
  out.logits.dispose();
  out.embedding.dispose();
  for (const m of out.attention) m.dispose();
  assert.equal(memoryInfo().liveTensors, before);
  input.dispose();
  model.dispose();
});
