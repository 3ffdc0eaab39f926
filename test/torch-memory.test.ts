// Memory: tidy scopes free every intermediate, so a long training run holds steady.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, F, getNumThreads, keep, manualSeed, setNumThreads, memoryInfo, randn, randint, tidy, dispose, zeros, type Tensor } from '../src/torch/index.js';
import { BatchNorm2d, Conv2d, Linear, Module } from '../src/nn/index.js';

class TinyConvNet extends Module {
  conv1 = this.registerModule('conv1', new Conv2d(3, 16, 3, { padding: 1 }));
  bn1 = this.registerModule('bn1', new BatchNorm2d(16));
  conv2 = this.registerModule('conv2', new Conv2d(16, 16, 3, { padding: 1, stride: 2 }));
  fc = this.registerModule('fc', new Linear(16, 5));
  forward(x: Tensor): Tensor {
    const h = this.conv2.forward(this.bn1.forward(this.conv1.forward(x)).relu()).relu();
    return this.fc.forward(F.adaptiveAvgPool2d(h, 1).flatten(1));
  }
}

test('2,000 training steps: live tensors constant and resident memory stops growing', () => {
  manualSeed(0);
  const threads = getNumThreads();
  setNumThreads(1); // tiny kernels run faster on one thread; the test is about memory, not speed
  const net = new TinyConvNet();
  const opt = new AdamW(net.parameters(), { lr: 1e-3 });
  const step = (): void => tidy(() => {
    opt.zeroGrad();
    const loss = F.crossEntropy(net.forward(randn([8, 3, 16, 16])), randint(0, 5, [8]));
    loss.backward();
    opt.stepOnce();
  });
  // Warm-up: allocator pools, oneDNN primitive caches and V8's heap reach their working size.
  for (let i = 0; i < 200; i++) step();
  const tensorsAfterWarmup = memoryInfo().liveTensors;
  const rssAfterWarmup = process.memoryUsage().rss;
  for (let i = 0; i < 1800; i++) step();
  const rssAtEnd = process.memoryUsage().rss;
  assert.equal(memoryInfo().liveTensors, tensorsAfterWarmup, 'no tensor outlives its step');
  // One leaked activation per step (8×16×16×16 floats = 128 KiB) would add 225 MiB over 1,800
  // steps; even one leaked 5-float loss-sized tensor with its ~1 KiB of handle and autograd
  // overhead would add ~2 MiB. 16 MiB leaves room for allocator and V8 heap noise only.
  const growthMiB = (rssAtEnd - rssAfterWarmup) / 2 ** 20;
  assert.ok(growthMiB < 16, `resident memory grew ${growthMiB.toFixed(1)} MiB over 1,800 steps`);
  opt.dispose();
  net.dispose();
  setNumThreads(threads);
});

test('tidy frees intermediates, keeps what it returns and what keep() marks', () => {
  const before = memoryInfo().liveTensors;
  let kept: Tensor | null = null;
  const result = tidy(() => {
    const a = zeros([10]).add(1);
    kept = keep(a.mul(3));
    const nested = tidy(() => ({ pair: [a.add(1), a.sub(1)] }));
    return nested.pair[0].add(nested.pair[1]);
  });
  assert.deepEqual(result.toArray(), new Array(10).fill(2));
  assert.deepEqual(kept!.toArray(), new Array(10).fill(3));
  assert.equal(memoryInfo().liveTensors, before + 2);
  dispose([result, kept]);
  assert.equal(memoryInfo().liveTensors, before);
});

test('tidy frees everything when its function throws, and refuses async functions', () => {
  const before = memoryInfo().liveTensors;
  assert.throws(() => tidy(() => {
    zeros([3]).add(1);
    throw new Error('boom');
  }), /boom/);
  assert.equal(memoryInfo().liveTensors, before);
  assert.throws(() => tidy(async () => zeros([1]) as never), /async function/);
  assert.equal(memoryInfo().liveTensors, before);
});

test('tensors nobody disposed are freed when V8 collects them', async (t) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    t.skip('run node with --expose-gc to check the native finalizer path');
    return;
  }
  const before = memoryInfo().liveTensors;
  (() => { for (let i = 0; i < 100; i++) zeros([1000]); })();
  for (let i = 0; i < 10 && memoryInfo().liveTensors > before; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(memoryInfo().liveTensors, before);
});
