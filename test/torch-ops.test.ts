// Op results and gradients checked against PyTorch itself (Debian's python3-torch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, cat, stack, where, manualSeed, randn, rand, randint, saveSafetensors, loadSafetensors, tidy, type Tensor } from '../src/torch/index.js';
import { runPythonReference } from './helpers/python.js';
import { assertTensorClose } from './helpers/compare.js';

type Case = { inputs: Record<string, Tensor>; fn: (...args: Tensor[]) => Tensor };

function cases(): Record<string, Case> {
  const r = (...shape: number[]) => randn(shape);
  return {
    add: { inputs: { a: r(3, 4), b: r(4) }, fn: (a, b) => a.add(b) },
    sub: { inputs: { a: r(3, 4), b: r(4) }, fn: (a, b) => a.sub(b) },
    mul: { inputs: { a: r(3, 4), b: r(4) }, fn: (a, b) => a.mul(b) },
    div: { inputs: { a: r(3, 4), b: r(4) }, fn: (a, b) => a.div(b.abs().add(1)) },
    unary: { inputs: { a: r(3, 5) }, fn: (a) => a.exp().add(a.abs().add(1).log()).add(a.abs().add(1).sqrt()).add(a.sigmoid()).add(a.tanh()).add(a.relu()) },
    softmax: { inputs: { a: r(3, 5) }, fn: (a) => a.softmax(1).add(a.logSoftmax(0)) },
    matmul: { inputs: { a: r(3, 4), b: r(4, 5) }, fn: (a, b) => a.matmul(b) },
    linear: { inputs: { x: r(3, 4), w: r(5, 4), b: r(5) }, fn: (x, w, b) => F.linear(x, w, b) },
    conv2d: { inputs: { x: r(2, 3, 9, 9), w: r(4, 3, 3, 3), b: r(4) }, fn: (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }) },
    conv2d_dilated_groups: { inputs: { x: r(2, 4, 8, 8), w: r(6, 2, 3, 3) }, fn: (x, w) => F.conv2d(x, w, null, { padding: 2, dilation: 2, groups: 2 }) },
    max_pool2d: { inputs: { x: r(2, 3, 9, 9) }, fn: (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }) },
    avg_pool2d: { inputs: { x: r(2, 3, 8, 8) }, fn: (x) => F.avgPool2d(x, 2) },
    adaptive_avg_pool2d: { inputs: { x: r(2, 3, 8, 8) }, fn: (x) => F.adaptiveAvgPool2d(x, 3) },
    interpolate: { inputs: { x: r(2, 3, 5, 4) }, fn: (x) => F.interpolateBilinear(x, [11, 7]) },
    reductions: { inputs: { a: r(3, 4, 5) }, fn: (a) => a.sum(1, true).add(a.mean([0, 1], true)).add(a.amax(1, true)) },
    shape_ops: { inputs: { a: r(3, 4, 5) }, fn: (a) => cat([a.permute([1, 0, 2]).reshape([4, -1]), a.flip(2).reshape([4, -1])], 1).slice(1, 1, 9, 2) },
    rot90_stack: { inputs: { a: r(3, 4, 4) }, fn: (a) => stack([a.rot90(1, [1, 2]), a], 0) },
    clamp_where: { inputs: { a: r(3, 4), b: r(3, 4) }, fn: (a, b) => where(a.gt(0), a.clamp(-0.5, 0.5), b) },
  };
}

test('ops and their gradients match PyTorch', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-ops-'));
  try {
    manualSeed(1);
    const all = cases();
    const saved = new Map<string, Tensor>();
    const ours = new Map<string, Tensor>();
    for (const [name, c] of Object.entries(all)) {
      const args = Object.values(c.inputs).map((t) => t.requiresGrad_());
      const out = c.fn(...args);
      const upstream = randn(out.shape);
      out.mul(upstream).sum().backward();
      ours.set(`${name}.out`, out.detach());
      for (const [argName, t] of Object.entries(c.inputs)) {
        saved.set(`${name}.${argName}`, t.detach());
        ours.set(`${name}.grad.${argName}`, t.grad!);
      }
      saved.set(`${name}.upstream`, upstream);
    }
    // Batch norm in both modes: outputs, in-place running statistics and gradients.
    const bn = { x: randn([4, 3, 5, 5]), w: randn([3]), b: randn([3]), rm: randn([3]), rv: rand([3]).add(0.5), upstream: randn([4, 3, 5, 5]) };
    for (const [k, t] of Object.entries(bn)) saved.set(`batch_norm.${k}`, t);
    for (const mode of ['train', 'eval'] as const) {
      const [x, w, b] = [bn.x, bn.w, bn.b].map((t) => t.detach().requiresGrad_());
      const rm = bn.rm.clone();
      const rv = bn.rv.clone();
      const y = F.batchNorm(x, rm, rv, { weight: w, bias: b, training: mode === 'train', momentum: 0.1, eps: 1e-5 });
      y.mul(bn.upstream).sum().backward();
      Object.entries({ out: y.detach(), rm, rv, 'grad.x': x.grad!, 'grad.w': w.grad!, 'grad.b': b.grad! }).forEach(([k, t]) => ours.set(`batch_norm_${mode}.${k}`, t));
    }
    // Cross-entropy with class weights and label smoothing.
    const logits = randn([6, 4]).requiresGrad_();
    const target = randint(0, 4, [6]);
    const weight = rand([4]).add(0.5);
    const loss = F.crossEntropy(logits, target, { weight, labelSmoothing: 0.1 });
    loss.backward();
    saved.set('cross_entropy.logits', logits.detach()).set('cross_entropy.target', target).set('cross_entropy.weight', weight);
    ours.set('cross_entropy.out', loss.detach()).set('cross_entropy.grad.logits', logits.grad!);

    saveSafetensors(join(dir, 'inputs.safetensors'), saved);
    runPythonReference('torch_ops_reference.py', [join(dir, 'inputs.safetensors'), join(dir, 'outputs.safetensors')]);
    const theirs = loadSafetensors(join(dir, 'outputs.safetensors')).tensors;
    assert.deepEqual([...theirs.keys()].sort(), [...ours.keys()].sort(), 'the same outputs and gradients on both sides');
    for (const [key, expected] of theirs) tidy(() => assertTensorClose(ours.get(key)!, expected, key));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
