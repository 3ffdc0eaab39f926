// PyTorch's torch.nn.init functions (in place, without recording gradients).
import { noGrad, rand, randn, tidy, type Tensor } from '../torch/index.js';

/** fan_in and fan_out as torch.nn.init._calculate_fan_in_and_fan_out computes them. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const [out, inp, ...kernel] = t.shape;
  if (inp === undefined) throw new Error(`init: fan in/out needs a tensor with at least 2 dims, got [${t.shape}]`);
  const receptive = kernel.reduce((a, b) => a * b, 1);
  return { fanIn: inp * receptive, fanOut: out * receptive };
}

export function uniform_(t: Tensor, low: number, high: number): Tensor {
  noGrad(() => tidy(() => { t.copy_(rand(t.shape, { dtype: t.dtype, device: t.device }).mul(high - low).add(low)); }));
  return t;
}
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  noGrad(() => tidy(() => { t.copy_(randn(t.shape, { dtype: t.dtype, device: t.device }).mul(std).add(mean)); }));
  return t;
}
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => tidy(() => { t.copy_(t.mul(0).add(value)); }));
  return t;
}

function gain(nonlinearity: 'relu' | 'leaky_relu' | 'linear', a = 0): number {
  if (nonlinearity === 'relu') return Math.SQRT2;
  if (nonlinearity === 'leaky_relu') return Math.sqrt(2 / (1 + a * a));
  return 1;
}

/** kaiming_uniform_; with a = √5 and leaky_relu it is the default of nn.Conv2d and nn.Linear. */
export function kaimingUniform_(t: Tensor, { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: { a?: number; mode?: 'fan_in' | 'fan_out'; nonlinearity?: 'relu' | 'leaky_relu' } = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  const bound = Math.sqrt(3) * (gain(nonlinearity, a) / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut));
  return uniform_(t, -bound, bound);
}
/** kaiming_normal_; torchvision's ResNet uses mode fan_out, relu for its convolutions. */
export function kaimingNormal_(t: Tensor, { a = 0, mode = 'fan_in', nonlinearity = 'leaky_relu' }: { a?: number; mode?: 'fan_in' | 'fan_out'; nonlinearity?: 'relu' | 'leaky_relu' } = {}): Tensor {
  const { fanIn, fanOut } = fans(t);
  return normal_(t, 0, gain(nonlinearity, a) / Math.sqrt(mode === 'fan_in' ? fanIn : fanOut));
}
