// `npm run bench -- gpu-pipeline [--data examples/pbc-sample] [--epochs 5] [--device cuda]`: the
// whole training path on a GPU (decode and augment on the CPU workers, batches to the device,
// validation, calibration), on real images, then the trained weights' logits on the GPU against
// the same weights on the CPU. Imports only the train, model and torch layers (their one npm
// dependencies: zod and sharp), so it runs on a GPU machine with a minimal node_modules.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createModel, parseModelConfig } from '../src/model/index.js';
import { readMetricsLog, runPath, trainRun } from '../src/train/index.js';
import { manualSeed, noGrad, randn, resolveDevice, setNumThreads, tidy } from '../src/torch/index.js';

export async function benchGpuPipeline(o: Record<string, string | number>) {
  const device = resolveDevice(String(o.device ?? 'cuda'));
  const threads = Number(o.threads ?? 8);
  setNumThreads(threads);
  const data = resolve(String(o.data ?? 'examples/pbc-sample'));
  const out = mkdtempSync(join(tmpdir(), 'aplnet-gpu-pipeline-'));
  const runDir = join(out, 'run');
  try {
    const started = performance.now();
    await trainRun({ data, device, threads, epochs: Number(o.epochs ?? 5), workers: Number(o.workers ?? 8) }, runDir, { log: (l) => console.error(l) });
    const trainSeconds = (performance.now() - started) / 1000;
    const epochs = readMetricsLog(runPath(runDir, 'metricsLog'));
    const calibration = JSON.parse(readFileSync(runPath(runDir, 'calibration'), 'utf8')) as { temperature: number };
    // The trained weights on the GPU and on the CPU: the same logits within float tolerance.
    const config = parseModelConfig(JSON.parse(readFileSync(runPath(runDir, 'config'), 'utf8')).model, runPath(runDir, 'config'));
    const onDevice = createModel(config);
    onDevice.load(runPath(runDir, 'bestWeights'), { strict: true, requireChecksum: true });
    const onCpu = createModel(config);
    onCpu.load(runPath(runDir, 'bestWeights'), { strict: true, requireChecksum: true });
    onDevice.to(device).eval();
    onCpu.eval();
    manualSeed(1);
    const x = randn([16, 3, config.inputSize, config.inputSize]);
    const diff = noGrad(() => tidy(() => {
      const a = onCpu.forward(x).logits;
      const b = onDevice.forward(x.to({ device })).logits.to({ device: 'cpu' });
      return { maxAbs: a.sub(b).abs().amax([0, 1]).item(), scale: a.abs().amax([0, 1]).item(), sameCalls: a.argmax(1).eq(b.argmax(1)).to({ dtype: 'float32' }).mean().item() };
    }));
    x.dispose(); onDevice.dispose(); onCpu.dispose();
    return {
      device,
      data,
      epochs: epochs.length,
      train_s: Math.round(trainSeconds * 10) / 10,
      img_s_per_epoch: epochs.map((e) => Math.round((e as { img_s?: number }).img_s ?? 0)),
      val_acc_last: epochs[epochs.length - 1].val_acc,
      temperature: calibration.temperature,
      logits_max_abs_diff_device_vs_cpu: diff.maxAbs,
      logits_scale: diff.scale,
      same_calls_device_vs_cpu: diff.sameCalls,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
