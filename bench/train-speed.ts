// Training img/s of a model preset on random inputs: the pace the data loader has to keep up with.
import { createModel } from '../src/model/index.js';
import { AdamW, F, manualSeed, randint, randn, setNumThreads, tidy } from '../src/torch/index.js';

export function presetTrainImgS(preset: string, { batch = 32, steps = 8, warmup = 2, threads = 2, numClasses = 8 } = {}): number {
  setNumThreads(threads);
  manualSeed(0);
  const model = createModel(preset, numClasses);
  const size = model.config.inputSize;
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const x = randn([batch, 3, size, size]);
  const y = randint(0, numClasses, [batch]);
  const step = (): void => tidy(() => {
    opt.zeroGrad();
    F.crossEntropy(model.forward(x).logits, y).backward();
    opt.stepOnce();
  });
  for (let i = 0; i < warmup; i++) step();
  const started = performance.now();
  for (let i = 0; i < steps; i++) step();
  const imgS = (batch * steps) / ((performance.now() - started) / 1000);
  x.dispose(); y.dispose(); opt.dispose(); model.dispose();
  return imgS;
}
