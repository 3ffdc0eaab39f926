// The exponential moving average of the weights (src/train/ema.ts) on a hand example: a linear layer
// and a BatchNorm whose values are set by hand, so every averaged number can be written down.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchNorm2d, Linear, Module } from '../src/nn/index.js';
import { noGrad, tensor, type Tensor } from '../src/torch/index.js';
import { emaDecayAt, WeightEma } from '../src/train/ema.js';

class Tiny extends Module {
  readonly fc = this.registerModule('fc', new Linear(2, 1));
  readonly bn = this.registerModule('bn', new BatchNorm2d(2));
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

function set(module: Tiny, weight: number[], bias: number, runningMean: number[], batches: number): void {
  noGrad(() => {
    module.fc.weight.copy_(tensor([weight]));
    module.namedParameters().find(([n]) => n === 'fc.bias')![1].copy_(tensor([bias]));
    const buffers = new Map(module.namedBuffers());
    buffers.get('bn.running_mean')!.copy_(tensor(runningMean));
    buffers.get('bn.num_batches_tracked')!.copy_(tensor(batches, { dtype: 'int64' }));
  });
}

const values = (module: Module, name: string): number[] => new Map([...module.namedParameters(), ...module.namedBuffers()]).get(name)!.toArray().flat(4) as number[];

test('the decay warms up as (1 + t) / (10 + t) and is capped at the chosen decay', () => {
  assert.equal(emaDecayAt(0.99, 0), 0.1);
  assert.equal(emaDecayAt(0.99, 8), 0.5);
  assert.equal(emaDecayAt(0.99, 10_000), 0.99);
  assert.equal(emaDecayAt(0.5, 100), 0.5);
});

test('one update: average = d·average + (1 − d)·live for weights and BN running statistics; the batch counter is copied', () => {
  const live = new Tiny();
  const average = new Tiny();
  set(live, [1, 2], 3, [4, 8], 5);
  const ema = new WeightEma(live, average, 0.5);
  assert.deepEqual(values(average, 'fc.weight'), [1, 2], 'the average starts at the live weights');
  assert.equal(average.training, false, 'the average is kept in eval mode');
  set(live, [3, 6], -1, [0, 0], 6);
  ema.update(8); // decay min(0.5, 9/18) = 0.5
  assert.deepEqual(values(average, 'fc.weight'), [2, 4]);
  assert.deepEqual(values(average, 'fc.bias'), [1]);
  assert.deepEqual(values(average, 'bn.running_mean'), [2, 4]);
  assert.deepEqual(values(average, 'bn.num_batches_tracked'), [6]);
  assert.deepEqual(values(live, 'fc.weight'), [3, 6], 'the live weights are untouched');
  ema.update(1000); // decay 0.5 again: halfway from [2, 4] to [3, 6]
  assert.deepEqual(values(average, 'fc.weight'), [2.5, 5]);
});

test('an early step mostly follows the live weights (warm-up), a late one mostly keeps the average', () => {
  const live = new Tiny();
  const average = new Tiny();
  set(live, [0, 0], 0, [0, 0], 0);
  const ema = new WeightEma(live, average, 0.9);
  set(live, [10, 10], 0, [0, 0], 0);
  ema.update(0); // decay 0.1
  assert.ok(Math.abs(values(average, 'fc.weight')[0] - 9) < 1e-5);
  set(live, [0, 0], 0, [0, 0], 0);
  ema.update(10_000); // decay 0.9
  assert.ok(Math.abs(values(average, 'fc.weight')[0] - 8.1) < 1e-5);
});

test('a decay outside (0, 1) or a different architecture is refused', () => {
  assert.throws(() => new WeightEma(new Tiny(), new Tiny(), 1), /decay/);
  assert.throws(() => new WeightEma(new Tiny(), new Tiny(), 0), /decay/);
  class Other extends Module {
    readonly fc = this.registerModule('fc', new Linear(3, 1));
    readonly bn = this.registerModule('bn', new BatchNorm2d(2));
    forward(x: Tensor): Tensor {
      return this.fc.forward(x);
    }
  }
  assert.throws(() => new WeightEma(new Tiny(), new Other(), 0.9), /fc\.weight/);
});
