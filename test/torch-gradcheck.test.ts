// Finite-difference gradient checks in float64: the analytical gradients libtorch computes through
// aplnet's bindings agree with central differences of the forward pass.
import { test } from 'node:test';
import { F, fromTypedArray, manualSeed, randint, randn, rand, tidy, noGrad, type Tensor } from '../src/torch/index.js';
import { assertClose } from './helpers/compare.js';

const f64 = (...shape: number[]): Tensor => randn(shape, { dtype: 'float64' });

/** Compares d(sum(fn(inputs) * upstream))/d(input) with central differences, for every input. */
function gradcheck(name: string, inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor, eps = 1e-6): void {
  tidy(() => {
    const upstream = noGrad(() => randn(fn(...inputs).shape, { dtype: 'float64' }));
    const loss = (xs: Tensor[]): number => tidy(() => fn(...xs).mul(upstream).sum().item());
    const leaves = inputs.map((t) => t.detach().requiresGrad_());
    tidy(() => fn(...leaves).mul(upstream).sum()).backward();
    inputs.forEach((input, which) => {
      const analytic = leaves[which].grad!.toArray();
      const values = input.data() as Float64Array;
      const numeric = new Array<number>(values.length);
      noGrad(() => {
        for (let i = 0; i < values.length; i++) {
          const plus = Float64Array.from(values); plus[i] += eps;
          const minus = Float64Array.from(values); minus[i] -= eps;
          const at = (v: Float64Array) => inputs.map((t, k) => (k === which ? fromTypedArray(v, t.shape) : t));
          numeric[i] = (loss(at(plus)) - loss(at(minus))) / (2 * eps);
        }
      });
      assertClose(analytic, numeric, `${name}: gradient of input ${which}`, { atol: 1e-6, rtol: 1e-5 });
    });
  });
}

test('conv2d gradients (stride, padding, dilation, groups, bias)', () => {
  manualSeed(11);
  gradcheck('conv2d', [f64(1, 4, 6, 6), f64(4, 2, 3, 3), f64(4)], (x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 2, dilation: 2, groups: 2 }));
});

test('batch_norm gradients in training mode', () => {
  manualSeed(12);
  gradcheck('batch_norm', [f64(3, 2, 3, 3), f64(2), f64(2)], (x, w, b) => F.batchNorm(x, null, null, { weight: w, bias: b, training: true }));
});

test('linear gradients', () => {
  manualSeed(13);
  gradcheck('linear', [f64(3, 5), f64(4, 5), f64(4)], (x, w, b) => F.linear(x, w, b));
});

test('pooling gradients (max, average, adaptive average)', () => {
  manualSeed(14);
  gradcheck('max_pool2d', [f64(1, 2, 7, 7)], (x) => F.maxPool2d(x, 3, { stride: 2, padding: 1 }));
  gradcheck('avg_pool2d', [f64(1, 2, 6, 6)], (x) => F.avgPool2d(x, 2));
  gradcheck('adaptive_avg_pool2d', [f64(1, 2, 7, 5)], (x) => F.adaptiveAvgPool2d(x, [3, 2]));
});

test('bilinear interpolation gradients (up and down)', () => {
  manualSeed(15);
  gradcheck('interpolate up', [f64(1, 2, 4, 3)], (x) => F.interpolateBilinear(x, [7, 8]));
  gradcheck('interpolate down', [f64(1, 2, 9, 8)], (x) => F.interpolateBilinear(x, [4, 3]));
});

test('cross_entropy gradients with class weights and label smoothing', () => {
  manualSeed(16);
  const target = randint(0, 5, [6]);
  const weight = rand([5], { dtype: 'float64' }).add(0.5);
  gradcheck('cross_entropy', [f64(6, 5)], (logits) => F.crossEntropy(logits, target, { weight, labelSmoothing: 0.2 }));
  target.dispose();
  weight.dispose();
});
