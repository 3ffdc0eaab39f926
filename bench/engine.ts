// Engine benchmark: trains the same small net in aplnet and in Python PyTorch, one after the other
// on this machine, and reports images/s of each and the per-op overhead of a tiny op.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AdamW, F, autocast, ones, randint, randn, resolveDevice, setNumThreads, manualSeed, tidy, type Tensor } from '../src/torch/index.js';
import { EngineBenchNet } from './engine-net.js';

export interface EngineBenchOptions {
  threads: number;
  steps: number;
  warmup: number;
  batch: number;
  size: number;
  device: string;
  python: string;
  /** Mixed precision on both sides: 'bf16' runs forward and loss under autocast(bfloat16), as torch.autocast. */
  amp: 'off' | 'bf16';
  /** 1: weights and input in channels-last layout on both sides, as module.to(memory_format=torch.channels_last). */
  channelsLast: number;
}

export const defaultEngineBenchOptions: EngineBenchOptions = { threads: 2, steps: 50, warmup: 5, batch: 32, size: 128, device: 'cpu', python: '/usr/bin/python3', amp: 'off', channelsLast: 0 };

export function aplnetTrainImgS(o: EngineBenchOptions): number {
  manualSeed(0);
  const net = new EngineBenchNet().to(o.device);
  if (o.channelsLast) net.toMemoryFormat('channels_last');
  const opt = new AdamW(net.parameters(), { lr: 1e-3 });
  const input = randn([o.batch, 3, o.size, o.size], { device: o.device });
  const x = o.channelsLast ? input.contiguous('channels_last') : input;
  const y = randint(0, 8, [o.batch], { device: o.device });
  const lossOf = (): Tensor => F.crossEntropy(net.forward(x), y);
  const step = (): number | null => tidy(() => {
    opt.zeroGrad();
    const loss = o.amp === 'bf16' ? autocast(o.device, 'bfloat16', lossOf) : lossOf();
    loss.backward();
    opt.stepOnce();
    return null;
  });
  for (let i = 0; i < o.warmup; i++) step();
  tidy(() => F.crossEntropy(net.forward(x), y).item()); // waits for queued GPU work before timing
  const start = performance.now();
  for (let i = 0; i < o.steps; i++) step();
  const lastLoss = tidy(() => net.forward(x).sum().item()); // synchronizes on CUDA
  const seconds = (performance.now() - start) / 1000;
  if (!Number.isFinite(lastLoss)) throw new Error('engine benchmark diverged');
  if (x !== input) x.dispose();
  input.dispose(); y.dispose(); opt.dispose(); net.dispose();
  return (o.batch * o.steps) / seconds;
}

/** Best of several blocks of a tiny op (as Python's timeit does): the machine's noise only ever adds time. */
function aplnetOpOverheadUs(blocks = 9, perBlock = 20_000): number {
  const a = ones([1]);
  const b = ones([1]);
  for (let i = 0; i < 2000; i++) a.add(b).dispose();
  let best = Infinity;
  for (let block = 0; block < blocks; block++) {
    const start = performance.now();
    for (let i = 0; i < perBlock; i++) a.add(b).dispose();
    best = Math.min(best, ((performance.now() - start) / perBlock) * 1000);
  }
  a.dispose();
  b.dispose();
  return best;
}

export function pytorchRun(o: EngineBenchOptions, opOverhead = true): { img_s: number; op_overhead_us: number | null } {
  const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'engine_pytorch.py');
  const args = [script, '--threads', String(o.threads), '--steps', String(o.steps), '--warmup', String(o.warmup), '--batch', String(o.batch), '--size', String(o.size), '--device', o.device, '--amp', o.amp];
  if (o.channelsLast) args.push('--channels-last');
  if (!opOverhead) args.push('--no-op-overhead');
  const out = execFileSync(o.python, args, { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

export function benchEngine(options: Partial<EngineBenchOptions> = {}) {
  const o = { ...defaultEngineBenchOptions, ...options };
  o.device = resolveDevice(o.device);
  setNumThreads(o.threads);
  const aplnetImgS = aplnetTrainImgS(o);
  const py = pytorchRun(o);
  const opUs = aplnetOpOverheadUs();
  return {
    device: o.device,
    threads: o.threads,
    amp: o.amp,
    channels_last: Boolean(o.channelsLast),
    aplnet_img_s: round(aplnetImgS),
    pytorch_img_s: round(py.img_s),
    ratio: round(aplnetImgS / py.img_s, 3),
    op_overhead_us: round(opUs, 2),
    pytorch_op_overhead_us: round(py.op_overhead_us ?? NaN, 2),
  };
}

export function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
