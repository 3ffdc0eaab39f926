// Optimizers: the same updates as torch.optim, and state that saves and resumes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdamW, SGD, F, loadSafetensors, manualSeed, randn, saveSafetensors, getCpuRngState, setCpuRngState, tidy, type Optimizer, type Tensor } from '../src/torch/index.js';
import { Conv2d, Linear, Module, BatchNorm2d, Dropout } from '../src/nn/index.js';
import { runPythonReference } from './helpers/python.js';
import { assertTensorClose } from './helpers/compare.js';

test('SGD (momentum, dampening, nesterov, weight decay) and AdamW match torch.optim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-optim-'));
  try {
    manualSeed(21);
    const inputs = { x: randn([16, 5]), y: randn([16, 3]), w: randn([3, 5]), b: randn([3]) };
    saveSafetensors(join(dir, 'in.safetensors'), inputs);
    const steps = 7;
    const lr = 0.05;
    const make: Record<string, (p: Tensor[]) => Optimizer> = {
      sgd: (p) => new SGD(p, { lr, momentum: 0.9, weightDecay: 0.01, nesterov: true }),
      sgd_plain: (p) => new SGD(p, { lr, momentum: 0.8, dampening: 0.1 }),
      adamw: (p) => new AdamW(p, { lr, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 }),
    };
    const ours = new Map<string, Tensor>();
    for (const [kind, build] of Object.entries(make)) {
      const w = inputs.w.clone().requiresGrad_();
      const b = inputs.b.clone().requiresGrad_();
      const opt = build([w, b]);
      for (let step = 0; step < steps; step++) {
        opt.lr = lr * (1 - step / (2 * steps));
        opt.zeroGrad();
        tidy(() => inputs.x.matmul(w.permute([1, 0])).add(b).sub(inputs.y).pow(2).mean()).backward();
        opt.stepOnce();
      }
      ours.set(`${kind}.w`, w).set(`${kind}.b`, b);
    }
    runPythonReference('optim_reference.py', [join(dir, 'in.safetensors'), join(dir, 'out.safetensors')]);
    const theirs = loadSafetensors(join(dir, 'out.safetensors')).tensors;
    assert.equal(theirs.size, ours.size);
    for (const [key, expected] of theirs) assertTensorClose(ours.get(key)!, expected, key, { atol: 1e-6, rtol: 1e-5 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

class SmallNet extends Module {
  conv = this.registerModule('conv', new Conv2d(3, 8, 3, { padding: 1 }));
  bn = this.registerModule('bn', new BatchNorm2d(8));
  drop = this.registerModule('drop', new Dropout(0.3));
  fc = this.registerModule('fc', new Linear(8, 4));
  forward(x: Tensor): Tensor {
    return this.fc.forward(this.drop.forward(F.adaptiveAvgPool2d(this.bn.forward(this.conv.forward(x)).relu(), 1).flatten(1)));
  }
}

function trainSteps(net: SmallNet, opt: Optimizer, n: number): void {
  for (let i = 0; i < n; i++) {
    tidy(() => {
      opt.zeroGrad();
      const x = randn([4, 3, 8, 8]);
      const y = randn([4, 4]).argmax(1);
      F.crossEntropy(net.forward(x), y).backward();
      opt.stepOnce();
    });
  }
}

test('resuming from saved weights, optimizer state and RNG state is bit-identical', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-resume-'));
  try {
    manualSeed(5);
    const straight = new SmallNet();
    const straightOpt = new AdamW(straight.parameters(), { lr: 0.01 });
    const initial = join(dir, 'initial.safetensors');
    straight.save(initial);
    const rngAtStart = getCpuRngState();
    trainSteps(straight, straightOpt, 10);

    // The same run, stopped after 4 steps, saved, and continued in fresh objects.
    const first = new SmallNet(); // its random init is overwritten by load, so draw it before the RNG reset
    first.load(initial);
    setCpuRngState(rngAtStart);
    const firstOpt = new AdamW(first.parameters(), { lr: 0.01 });
    trainSteps(first, firstOpt, 4);
    first.save(join(dir, 'weights.safetensors'));
    const { buffers, step, lr } = firstOpt.stateDict();
    saveSafetensors(join(dir, 'optim.safetensors'), buffers, { step: String(step), lr: String(lr) });
    saveSafetensors(join(dir, 'rng.safetensors'), { cpu: getCpuRngState() });

    const resumed = new SmallNet(); // fresh objects draw random init: the saved RNG state must undo that
    resumed.load(join(dir, 'weights.safetensors'));
    const resumedOpt = new AdamW(resumed.parameters(), { lr: 0.01 });
    const saved = loadSafetensors(join(dir, 'optim.safetensors'));
    resumedOpt.loadStateDict({ buffers: saved.tensors, step: Number(saved.metadata.step), lr: Number(saved.metadata.lr) });
    setCpuRngState(loadSafetensors(join(dir, 'rng.safetensors')).tensors.get('cpu')!);
    trainSteps(resumed, resumedOpt, 6);

    for (const [key, t] of straight.stateDict()) {
      assert.deepEqual(resumed.stateDict().get(key)!.data(), t.data(), `${key} identical after resume`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a manual seed makes two training runs bit-identical on CPU', () => {
  const run = (): Float32Array => {
    manualSeed(99);
    const net = new SmallNet();
    trainSteps(net, new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 }), 5);
    return net.stateDict().get('fc.weight')!.data() as Float32Array;
  };
  assert.deepEqual(run(), run());
});

test('optimizer state of the wrong model is rejected clearly', () => {
  const a = new AdamW([randn([3]).requiresGrad_()], { lr: 0.1 });
  const b = new AdamW([randn([4]).requiresGrad_()], { lr: 0.1 });
  assert.throws(() => b.loadStateDict(a.stateDict()), /optimizer buffer "exp_avg.0.0" has shape \[3\] but the parameter has \[4\]/);
  assert.throws(() => new SGD([randn([2]).requiresGrad_()], { lr: 0.1, nesterov: true }), /nesterov needs momentum/);
  assert.throws(() => new AdamW([], { lr: -1 }), /learning rate must be positive/);
});
