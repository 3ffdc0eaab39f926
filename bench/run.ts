// `npm run bench -- <name> [--key value …]`: runs one benchmark and prints, as its last line, one
// JSON object with the figures (the issues' contract, so CI logs and notes can quote them).

type Bench = (options: Record<string, string | number>) => Promise<unknown> | unknown;

// Each benchmark is imported only when asked for, so one with heavy setup never slows another.
const benches: Record<string, () => Promise<Bench>> = {
  accuracy: async () => {
    const { benchAccuracy } = await import('./accuracy.js');
    return (o) => benchAccuracy(o);
  },
  cases: async () => {
    const { benchCases } = await import('./cases.js');
    return (o) => benchCases(o);
  },
  ddp: async () => {
    const { benchDdp } = await import('./ddp.js');
    return (o) => benchDdp(o);
  },
  engine: async () => {
    const { benchEngine } = await import('./engine.js');
    return (o) => benchEngine(o);
  },
  gpu: async () => {
    const { benchGpu } = await import('./gpu.js');
    return (o) => benchGpu(o);
  },
  'gpu-pipeline': async () => {
    const { benchGpuPipeline } = await import('./gpu-pipeline.js');
    return (o) => benchGpuPipeline(o);
  },
  explain: async () => {
    const { benchExplain } = await import('./explain.js');
    return (o) => benchExplain(o);
  },
  loader: async () => {
    const { benchLoader } = await import('./loader.js');
    const { presetTrainImgS } = await import('./train-speed.js');
    return async (o) => {
      const loader = await benchLoader(o);
      const model_train_img_s = presetTrainImgS('aplnet-s', { threads: Number(o.threads ?? 2) });
      // The loader runs beside training, so its augmented (cache + augmentation) rate must exceed
      // the model's training rate; the target is 2x.
      return { ...loader, model_train_img_s, ratio: loader.augmented_img_s / model_train_img_s };
    };
  },
  model: async () => {
    const { benchModel } = await import('./model.js');
    return (o) => benchModel({ ...o, presets: typeof o.presets === 'string' ? o.presets.split(',') : undefined });
  },
  ood: async () => {
    const { benchOod } = await import('./ood.js');
    return (o) => benchOod(o);
  },
  serve: async () => {
    const { benchServe } = await import('./serve.js');
    return (o) => benchServe(o);
  },
};

function parseOptions(args: string[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, '');
    const value = args[i + 1];
    if (value === undefined) throw new Error(`option --${key} needs a value`);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const load = benches[name ?? ''];
  if (!load) {
    console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--option value …]`);
    process.exit(2);
  }
  const result = await (await load())(parseOptions(rest));
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
