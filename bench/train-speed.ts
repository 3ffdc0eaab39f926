// Training img/s of a model preset on random inputs: the pace the data loader has to keep up with.
// On a GPU, optionally with bf16 autocast and the channels-last layout (bench/gpu.ts).
import { createModel } from '../src/model/index.js';
import { AdamW, F, autocast, manualSeed, randint, randn, setNumThreads, tidy, type Tensor } from '../src/torch/index.js';

export interface PresetTrainOptions {
  batch?: number;
  steps?: number;
  warmup?: number;
  /** Sets the thread count when given; left as it is otherwise. */
  threads?: number;
  numClasses?: number;
  device?: string;
  amp?: 'off' | 'bf16';
  channelsLast?: boolean;
}

export function presetTrainImgS(preset: string, { batch = 32, steps = 8, warmup = 2, threads, numClasses = 8, device = 'cpu', amp = 'off', channelsLast = false }: PresetTrainOptions = {}): number {
  if (threads !== undefined) setNumThreads(threads);
  manualSeed(0);
  const model = createModel(preset, numClasses);
  model.to(device);
  if (channelsLast) model.toMemoryFormat('channels_last');
  const size = model.config.inputSize;
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const input = randn([batch, 3, size, size], { device });
  const x = channelsLast ? input.contiguous('channels_last') : input;
  const y = randint(0, numClasses, [batch], { device });
  const lossOf = (): Tensor => F.crossEntropy(model.forward(x).logits, y);
  const step = (): void => tidy(() => {
    opt.zeroGrad();
    (amp === 'bf16' ? autocast(device, 'bfloat16', lossOf) : lossOf()).backward();
    opt.stepOnce();
  });
  for (let i = 0; i < warmup; i++) step();
  // On a GPU, a value read back waits for the queued work, before and at the end of the timing.
  const sync = (): void => { if (device !== 'cpu') tidy(() => lossOf().item()); };
  sync();
  const started = performance.now();
  for (let i = 0; i < steps; i++) step();
  sync();
  const imgS = (batch * steps) / ((performance.now() - started) / 1000);
  if (x !== input) x.dispose();
  input.dispose(); y.dispose(); opt.dispose(); model.dispose();
  return imgS;
}
