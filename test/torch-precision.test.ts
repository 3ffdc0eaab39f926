// Mixed precision and memory format: autocast (as torch.autocast) and channels-last (as
// tensor.to(memory_format=torch.channels_last)), the two levers the GPU benchmark turns. Checked on
// the CPU here; on CUDA the same native calls are made with device type 'cuda'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdamW, F, autocast, isAutocastEnabled, manualSeed, randint, randn, tidy, keep } from '../src/torch/index.js';
import { BatchNorm2d, Conv2d, Linear, Module } from '../src/nn/index.js';
import { assertTensorClose } from './helpers/compare.js';

test('autocast(cpu, bfloat16) runs a convolution in bfloat16, keeps the loss in float32, and restores the state after, also on a throw', () => {
  manualSeed(3);
  const conv = new Conv2d(3, 8, 3, { padding: 1 });
  const x = randn([2, 3, 16, 16]);
  const full = conv.forward(x);
  assert.equal(isAutocastEnabled('cpu'), false);
  const { half, loss } = autocast('cpu', 'bfloat16', () => {
    assert.equal(isAutocastEnabled('cpu'), true);
    const y = keep(conv.forward(x));
    return { half: y, loss: keep(F.crossEntropy(y.mean([2, 3]), full.mean([2, 3]).argmax(1))) };
  });
  assert.equal(half.dtype, 'bfloat16');
  assert.equal(loss.dtype, 'float32', 'cross-entropy runs in float32 under autocast');
  assert.equal(isAutocastEnabled('cpu'), false);
  assertTensorClose(half.to({ dtype: 'float32' }), full, 'bfloat16 convolution against float32', { atol: 0.05, rtol: 0.02 });
  loss.backward();
  const weight = conv.parameters()[0];
  assert.equal(weight.dtype, 'float32', 'weights stay float32');
  assert.equal(weight.grad!.dtype, 'float32', 'gradients reach the float32 weights');
  assert.throws(() => autocast('cpu', 'bfloat16', () => { throw new Error('boom'); }), /boom/);
  assert.equal(isAutocastEnabled('cpu'), false, 'a throw inside leaves autocast off');
  autocast('cpu', 'bfloat16', () => autocast('cpu', 'bfloat16', () => assert.equal(isAutocastEnabled('cpu'), true)));
  assert.equal(isAutocastEnabled('cpu'), false, 'nested regions unwind to the state before');
  assert.throws(() => autocast('mps', 'bfloat16', () => 0), /no autocast for device "mps"/);
});

test('autocast reads weights changed between regions (the cast cache is cleared on leaving)', () => {
  manualSeed(4);
  const lin = new Linear(4, 2);
  const x = randn([3, 4]);
  const before = autocast('cpu', 'bfloat16', () => keep(lin.forward(x)));
  tidy(() => lin.parameters()[0].copy_(lin.parameters()[0].mul(0)));
  const after = autocast('cpu', 'bfloat16', () => keep(lin.forward(x)));
  const bias = lin.parameters()[1].reshape([1, 2]).expand([3, 2]);
  assertTensorClose(after.to({ dtype: 'float32' }), bias, 'zeroed weights are seen', { atol: 0.02 });
  assert.ok(before.sub(after.to({ dtype: before.dtype })).abs().amax([0, 1]).item() > 0.01);
});

class SmallNet extends Module {
  readonly conv = this.registerModule('conv', new Conv2d(3, 6, 3, { padding: 1, bias: false }));
  readonly bn = this.registerModule('bn', new BatchNorm2d(6));
  readonly fc = this.registerModule('fc', new Linear(6, 3));
  forward(x: ReturnType<typeof randn>) {
    return this.fc.forward(F.adaptiveAvgPool2d(this.bn.forward(this.conv.forward(x)).relu(), 1).flatten(1));
  }
}

test('channels-last: same values and gradients as NCHW, and toMemoryFormat keeps the parameters the optimizer holds', () => {
  manualSeed(5);
  const x = randn([4, 3, 12, 12]);
  const nhwc = x.contiguous('channels_last');
  assert.equal(nhwc.isContiguous('channels_last'), true);
  assert.equal(nhwc.isContiguous(), false, 'NHWC strides are not NCHW-contiguous');
  assert.deepEqual(nhwc.shape, [4, 3, 12, 12], 'the logical shape stays NCHW');
  assertTensorClose(nhwc, x, 'same values');

  const a = new SmallNet();
  const b = new SmallNet();
  b.loadStateDict(a.stateDict());
  const params = b.parameters();
  const opt = new AdamW(params, { lr: 0.01 });
  b.toMemoryFormat('channels_last');
  assert.ok(b.parameters().every((p, i) => p === params[i]), 'the same parameter objects');
  assert.equal(b.parameters()[0].isContiguous('channels_last'), true, 'the convolution weight is channels-last');
  const y = randint(0, 3, [4]);
  const lossA = F.crossEntropy(a.forward(x), y);
  const lossB = F.crossEntropy(b.forward(nhwc), y);
  assertTensorClose(lossB, lossA, 'loss', { atol: 1e-5 });
  lossA.backward();
  lossB.backward();
  assertTensorClose(b.parameters()[0].grad!, a.parameters()[0].grad!, 'conv weight gradient', { atol: 1e-5 });
  const w0 = b.parameters()[0].clone();
  opt.stepOnce();
  assert.ok(b.parameters()[0].sub(w0).abs().amax([0, 1, 2, 3]).item() > 0, 'the optimizer made before the layout change still updates the weight');
});
