// `npm run bench -- gpu [--device cuda] [--rounds 3] [--presets aplnet-s,aplnet-s-ap,...]`: the GPU
// figures of the scaling issue in one run. (1) The engine benchmark's net trained by aplnet and by
// Python PyTorch on the same GPU, alternating aplnet and PyTorch `rounds` times per mode (float32;
// bf16 autocast; bf16 autocast + channels-last; float32 + channels-last) at the engine benchmark's
// batch 32 and at a batch of 256 that keeps the GPU busy; the median ratio per mode. (2) Training
// and inference img/s of the aplnet presets, float32 and bf16 + channels-last.
import { createModel, type AplNet } from '../src/model/index.js';
import { autocast, libtorchVersion, manualSeed, noGrad, randn, resolveDevice, setNumThreads, tidy, type Tensor } from '../src/torch/index.js';
import { predictLatencyMs } from './model.js';
import { presetTrainImgS } from './train-speed.js';
import { aplnetTrainImgS, defaultEngineBenchOptions, pytorchRun, round, type EngineBenchOptions } from './engine.js';

interface Mode { name: string; amp: 'off' | 'bf16'; channelsLast: number }
const MODES: Mode[] = [
  { name: 'float32', amp: 'off', channelsLast: 0 },
  { name: 'bf16', amp: 'bf16', channelsLast: 0 },
  { name: 'bf16+channels_last', amp: 'bf16', channelsLast: 1 },
  { name: 'float32+channels_last', amp: 'off', channelsLast: 1 },
];

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const log = (line: string): void => console.error(line);

function engineModes(base: EngineBenchOptions, rounds: number, batch: number, steps: number) {
  const out: Record<string, unknown> = {};
  for (const mode of MODES) {
    const o = { ...base, batch, steps, warmup: Number(base.warmup), amp: mode.amp, channelsLast: mode.channelsLast };
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let r = 0; r < rounds; r++) {
      ours.push(aplnetTrainImgS(o));
      theirs.push(pytorchRun(o, false).img_s);
    }
    const ratios = ours.map((v, i) => v / theirs[i]);
    out[mode.name] = { aplnet_img_s: round(median(ours)), pytorch_img_s: round(median(theirs)), ratio: round(median(ratios), 3), ratios: ratios.map((r) => round(r, 3)) };
    log(`engine ${mode.name} batch ${batch}: ${JSON.stringify(out[mode.name])}`);
  }
  return out;
}

function presetInfer(preset: string, device: string, mode: Mode, batch: number, repeats: number): { img_s: number; predict_map_ms_b1: number } {
  manualSeed(0);
  const model: AplNet = createModel(preset, 8);
  model.to(device).eval();
  if (mode.channelsLast) model.toMemoryFormat('channels_last');
  const size = model.config.inputSize;
  const layout = (t: Tensor): Tensor => (mode.channelsLast ? t.contiguous('channels_last') : t.clone());
  const input = tidy(() => layout(randn([batch, 3, size, size], { device })));
  const forward = (): void => noGrad(() => tidy(() => {
    const run = (): Tensor => model.forward(input).logits;
    (mode.amp === 'bf16' ? autocast(device, 'bfloat16', run) : run()).sum().item();
  }));
  for (let i = 0; i < 5; i++) forward();
  const started = performance.now();
  for (let i = 0; i < repeats; i++) forward();
  const imgS = (batch * repeats) / ((performance.now() - started) / 1000);
  // One image, predict + the model's default map (what a user waits for), float32 as predict runs.
  const one = tidy(() => layout(randn([1, 3, size, size], { device })));
  const ms = predictLatencyMs(model, 30, one);
  input.dispose(); one.dispose(); model.dispose();
  return { img_s: imgS, predict_map_ms_b1: ms };
}

export function benchGpu(o: Record<string, string | number>) {
  const device = resolveDevice(String(o.device ?? 'cuda'));
  const rounds = Number(o.rounds ?? 3);
  const threads = Number(o.threads ?? 8);
  setNumThreads(threads);
  const base: EngineBenchOptions = { ...defaultEngineBenchOptions, device, threads, warmup: Number(o.warmup ?? 20), python: String(o.python ?? 'python3') };
  const result: Record<string, unknown> = { device, libtorch: libtorchVersion(), rounds };
  result.engine_batch32 = engineModes(base, rounds, 32, Number(o.steps32 ?? 300));
  result.engine_batch256 = engineModes(base, rounds, 256, Number(o.steps256 ?? 100));
  const presets = String(o.presets ?? 'aplnet-s,aplnet-s-ap,aplnet-m,aplnet-m-ap').split(',');
  const perPreset: Record<string, unknown> = {};
  for (const preset of presets) {
    const figures: Record<string, unknown> = {};
    for (const mode of [MODES[0], MODES[2]]) {
      const train = presetTrainImgS(preset, { device, amp: mode.amp, channelsLast: Boolean(mode.channelsLast), batch: Number(o.trainBatch ?? 64), steps: Number(o.trainSteps ?? 30), warmup: 5 });
      const infer = presetInfer(preset, device, mode, 256, Number(o.inferRepeats ?? 20));
      figures[mode.name] = { train_img_s: round(train), infer_img_s_b256: round(infer.img_s), predict_map_ms_b1: round(infer.predict_map_ms_b1, 2) };
      log(`preset ${preset} ${mode.name}: ${JSON.stringify(figures[mode.name])}`);
    }
    perPreset[preset] = figures;
  }
  result.presets = perPreset;
  const fp32 = (result.engine_batch32 as Record<string, { ratio: number }>).float32;
  const bf16 = (result.engine_batch32 as Record<string, { aplnet_img_s: number }>).bf16;
  result.summary = {
    train_ratio_float32_batch32: fp32.ratio,
    bf16_faster_than_pytorch_float32: bf16.aplnet_img_s > (result.engine_batch32 as Record<string, { pytorch_img_s: number }>).float32.pytorch_img_s,
  };
  return result;
}
