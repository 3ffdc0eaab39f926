import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../src/model/index.js';
import { F, manualSeed, randn, setNumThreads, tensor, tidy } from '../src/torch/index.js';

setNumThreads(2);

test('the loss gradient flows through the attention modules into their conv and BN weights', () => {
  manualSeed(1);
  const model = createModel('aplnet-s', 3).train();
  try {
    tidy(() => {
      const { logits } = model.forward(randn([4, 3, 64, 64]));
      F.crossEntropy(logits, tensor([0, 1, 2, 1], { dtype: 'int64' })).backward();
    });
    for (const name of ['attention.0.conv.weight', 'attention.1.conv.weight', 'attention.0.bn.weight', 'stem.0.weight']) {
      const grad = model.stateDict().get(name)!.grad;
      assert.ok(grad, `${name} has no gradient`);
      const norm = tidy(() => grad.abs().sum().item());
      grad.dispose();
      assert.ok(norm > 0, `${name} has an all-zero gradient`);
    }
  } finally {
    model.dispose();
  }
});

test('keepActivations returns the named feature maps with their gradient retained (for Grad-CAM)', () => {
  const model = createModel('aplnet-s', 3).eval();
  try {
    tidy(() => {
      const { logits, activations } = model.forward(randn([2, 3, 144, 144]), { keepActivations: ['stage1', 'stage3'] });
      assert.deepEqual(Object.keys(activations).sort(), ['stage1', 'stage3']);
      assert.deepEqual(activations.stage1.shape, [2, 48, 18, 18]);
      assert.deepEqual(activations.stage3.shape, [2, 192, 5, 5]);
      logits.select(1, 0).sum().backward();
      const grad = activations.stage3.grad;
      assert.ok(grad, 'stage3 kept no gradient');
      assert.deepEqual(grad.shape, [2, 192, 5, 5]);
      assert.ok(grad.abs().sum().item() > 0);
    });
  } finally {
    model.dispose();
  }
});
