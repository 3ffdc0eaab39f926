// `npm run bench -- model`: size, speed and explanation faithfulness of the model presets.
// Speed is measured on 2 CPU threads. Faithfulness (deletion AUC of attention, Grad-CAM and a
// seeded random-map baseline) needs a model that has learned something: one is trained for a few
// epochs on a class-balanced subset of pbc-8class and kept in .cache/ for later runs. Images are
// read with sharp directly (resize + centre crop), independent of src/data.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { defaultExplainMethod, deletionCurve, explain, predictAndExplain, randomMaps } from '../src/explain/index.js';
import { mulberry32 } from '../src/data/index.js';
import { createModel, describeModel, parseModelConfig, type AplNet } from '../src/model/index.js';
import { AdamW, F, fromTypedArray, manualSeed, noGrad, randn, setNumThreads, tensor, tidy, type Tensor } from '../src/torch/index.js';

export interface BenchModelOptions {
  presets?: string[];
  threads?: number;
  /**
   * Threads while training the faithfulness model (default: threads). On a shared machine whose
   * cores are busy, 1 avoids OpenMP threads waiting on each other and trains several times faster.
   */
  trainThreads?: number;
  dataDir?: string;
  /** Where the briefly trained model is kept between runs. */
  cacheDir?: string;
  /** Train again even if a kept model exists. */
  retrain?: boolean;
  trainPerClass?: number;
  epochs?: number;
  /** Held-out images (spread over the classes) for the deletion curves. */
  deletionImages?: number;
  log?: (message: string) => void;
}

export interface PresetFigures {
  params: number;
  macs: number;
  img_s_b1: number;
  img_s_b32: number;
  latency_ms: number;
}

export interface ModelBenchResult {
  presets: Record<string, PresetFigures>;
  deletion_auc: { attention: number; attention_grad: number; gradcam: number; random: number };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Images per second of eval-mode inference at one batch size (after a warm-up pass). */
function inferenceRate(model: AplNet, batch: number, repeats: number): number {
  const size = model.config.inputSize;
  const input = randn([batch, 3, size, size]);
  const run = (): void => noGrad(() => tidy(() => { model.forward(input).logits.data(); }));
  // oneDNN builds its kernels for each new shape on first use: keep that out of the timing.
  for (let w = 0; w < 3; w++) run();
  const start = performance.now();
  for (let r = 0; r < repeats; r++) run();
  const seconds = (performance.now() - start) / 1000;
  input.dispose();
  return (batch * repeats) / seconds;
}

/**
 * Median wall time of what a user waits for per image: the prediction core's pass with the model's
 * default map (attention-pool or attention-grad) at input size, on `image` when given (on the
 * model's device, in its layout; the caller keeps it), else on a random CPU image.
 */
export function predictLatencyMs(model: AplNet, runs: number, image?: Tensor): number {
  const size = model.config.inputSize;
  const input = image ?? randn([1, 3, size, size]);
  const method = defaultExplainMethod(model);
  const once = (): number => {
    const start = performance.now();
    const { maps } = predictAndExplain(model, input, [method]);
    maps[method]!.data();
    maps[method]!.dispose();
    return performance.now() - start;
  };
  for (let w = 0; w < 3; w++) once();
  const times = Array.from({ length: runs }, once);
  if (!image) input.dispose();
  return median(times);
}

function benchPreset(name: string, log: (m: string) => void): PresetFigures {
  const model = createModel(name, 8).eval();
  try {
    const { params, macs } = describeModel(model);
    const figures = {
      params,
      macs,
      img_s_b1: inferenceRate(model, 1, 20),
      img_s_b32: inferenceRate(model, 32, name === 'aplnet-s' ? 5 : 2),
      latency_ms: predictLatencyMs(model, 50),
    };
    log(`${name}: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    model.dispose();
  }
}

// ---- a small labelled sample of pbc-8class, decoded with sharp ----
export interface Sample {
  pixels: Uint8Array; // HWC RGB, side × side
  label: number;
}

/** Fisher–Yates with the given generator. */
function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

async function decodeSquare(path: string, side: number): Promise<Uint8Array> {
  const { data } = await sharp(path).removeAlpha().resize(side, side, { fit: 'cover', position: 'centre' }).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

/** Per class, a seeded shuffle of its files split into `train` and `held` images. */
async function loadSplit(dataDir: string, side: number, trainPerClass: number, heldPerClass: number): Promise<{ classes: string[]; train: Sample[]; held: Sample[] }> {
  const classes = readdirSync(dataDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  if (classes.length < 2) throw new Error(`bench model: ${dataDir} should hold one folder per class; found ${classes.length}`);
  const random = mulberry32(11);
  const train: Sample[] = [];
  const held: Sample[] = [];
  for (const [label, name] of classes.entries()) {
    const files = readdirSync(join(dataDir, name)).filter((f) => /\.(jpe?g|png|tiff?)$/i.test(f)).sort();
    shuffleInPlace(files, random);
    const take = async (list: string[]): Promise<Sample[]> => Promise.all(list.map(async (f) => ({ pixels: await decodeSquare(join(dataDir, name, f), side), label })));
    train.push(...(await take(files.slice(0, trainPerClass))));
    held.push(...(await take(files.slice(trainPerClass, trainPerClass + heldPerClass))));
  }
  return { classes, train, held };
}

export interface Normalization {
  mean: number[];
  std: number[];
}

function channelStats(samples: Sample[]): Normalization {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  let count = 0;
  for (const { pixels } of samples) {
    for (let p = 0; p < pixels.length; p += 3) for (let c = 0; c < 3; c++) {
      const v = pixels[p + c] / 255;
      sum[c] += v;
      sq[c] += v * v;
    }
    count += pixels.length / 3;
  }
  const mean = sum.map((s) => s / count);
  return { mean, std: sq.map((s, c) => Math.sqrt(s / count - mean[c] ** 2)) };
}

/** Samples → normalized NCHW float tensor. */
export function toBatch(samples: Sample[], side: number, { mean, std }: Normalization): Tensor {
  const plane = side * side;
  const out = new Float32Array(samples.length * 3 * plane);
  samples.forEach(({ pixels }, i) => {
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) out[(i * 3 + c) * plane + p] = (pixels[p * 3 + c] / 255 - mean[c]) / std[c];
  });
  return fromTypedArray(out, [samples.length, 3, side, side]);
}

function trainBriefly(model: AplNet, train: Sample[], norm: Normalization, epochs: number, log: (m: string) => void): void {
  const side = model.config.inputSize;
  const batchSize = 32;
  const optimizer = new AdamW(model.parameters(), { lr: 3e-3, weightDecay: 1e-4 });
  const stepsPerEpoch = Math.ceil(train.length / batchSize);
  const random = mulberry32(5);
  model.train();
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = shuffleInPlace(train.map((_, i) => i), random);
    let lossSum = 0;
    const start = performance.now();
    for (let step = 0; step < stepsPerEpoch; step++) {
      // Cosine decay over the whole run: a few epochs still end at a settled model.
      const progress = (epoch * stepsPerEpoch + step) / (epochs * stepsPerEpoch);
      optimizer.lr = 3e-3 * 0.5 * (1 + Math.cos(Math.PI * progress));
      const chosen = order.slice(step * batchSize, (step + 1) * batchSize).map((i) => train[i]);
      lossSum += tidy(() => {
        let x = toBatch(chosen, side, norm);
        // Smear cells have no orientation: random flips are free extra data.
        if (random() < 0.5) x = x.flip(3);
        if (random() < 0.5) x = x.flip(2);
        const labels = tensor(chosen.map((s) => s.label), { dtype: 'int64' });
        const loss = F.crossEntropy(model.forward(x).logits, labels);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.stepOnce();
        return loss.item();
      });
    }
    log(`train epoch ${epoch + 1}/${epochs}: loss ${(lossSum / stepsPerEpoch).toFixed(3)} (${((performance.now() - start) / 1000).toFixed(0)} s)`);
  }
  model.eval();
}

/** The briefly trained aplnet-s, from the cache or trained now. */
export async function briefModel(o: Required<Pick<BenchModelOptions, 'dataDir' | 'cacheDir' | 'retrain' | 'trainPerClass' | 'epochs' | 'deletionImages'>>, log: (m: string) => void): Promise<{ model: AplNet; held: Sample[]; classes: string[]; norm: Normalization }> {
  const side = 144;
  const classFolders = readdirSync(o.dataDir, { withFileTypes: true }).filter((d) => d.isDirectory()).length;
  const heldPerClass = Math.max(1, Math.ceil(o.deletionImages / classFolders));
  const { classes, train, held } = await loadSplit(o.dataDir, side, o.trainPerClass, heldPerClass);
  const paths = { config: join(o.cacheDir, 'config.json'), weights: join(o.cacheDir, 'model.safetensors'), norm: join(o.cacheDir, 'normalization.json') };
  if (!o.retrain && existsSync(paths.weights) && existsSync(paths.config) && existsSync(paths.norm)) {
    const model = createModel(parseModelConfig(JSON.parse(readFileSync(paths.config, 'utf8')), paths.config));
    model.load(paths.weights);
    log(`using the model kept in ${o.cacheDir}`);
    return { model: model.eval(), held, classes, norm: JSON.parse(readFileSync(paths.norm, 'utf8')) };
  }
  manualSeed(0);
  const model = createModel('aplnet-s', classes.length);
  const norm = channelStats(train);
  trainBriefly(model, train, norm, o.epochs, log);
  mkdirSync(o.cacheDir, { recursive: true });
  writeFileSync(paths.config, JSON.stringify(model.config, null, 2));
  writeFileSync(paths.norm, JSON.stringify(norm));
  model.save(paths.weights);
  return { model, held, classes, norm };
}

function heldOutAccuracy(model: AplNet, images: Tensor, labels: number[]): number {
  const predicted = noGrad(() => tidy(() => model.forward(images).logits.argmax(1).toArray()));
  return predicted.filter((p, i) => p === labels[i]).length / labels.length;
}

export async function benchModel(options: BenchModelOptions = {}): Promise<ModelBenchResult> {
  const o = {
    presets: options.presets ?? ['aplnet-s-ap', 'aplnet-s', 'aplnet-m'],
    threads: options.threads ?? 2,
    trainThreads: options.trainThreads ?? options.threads ?? 2,
    dataDir: resolve(options.dataDir ?? '../shared/data/pbc-8class'),
    cacheDir: resolve(options.cacheDir ?? '.cache/bench-model'),
    retrain: options.retrain ?? false,
    trainPerClass: options.trainPerClass ?? 200,
    epochs: options.epochs ?? 6,
    deletionImages: options.deletionImages ?? 64,
  };
  const log = options.log ?? ((m: string) => console.error(`[bench model] ${m}`));
  setNumThreads(o.threads);
  const presets: Record<string, PresetFigures> = {};
  for (const name of o.presets) presets[name] = benchPreset(name, log);

  setNumThreads(o.trainThreads);
  const { model, held, norm } = await briefModel(o, log);
  setNumThreads(o.threads);
  try {
    const images = toBatch(held, model.config.inputSize, norm);
    const labels = held.map((s) => s.label);
    log(`held-out accuracy of the briefly trained model: ${(heldOutAccuracy(model, images, labels) * 100).toFixed(1)}% on ${labels.length} images`);
    // The true class is the target: deletion then asks whether the map finds the evidence for it.
    const [n, , h, w] = images.shape;
    const maps = {
      attention: explain(model, images, { method: 'attention' }),
      attention_grad: explain(model, images, { method: 'attention-grad', target: labels }),
      gradcam: explain(model, images, { method: 'gradcam', target: labels }),
      random: randomMaps(n, h, w, { seed: 1 }),
    };
    const deletion_auc = { attention: 0, attention_grad: 0, gradcam: 0, random: 0 };
    for (const key of Object.keys(maps) as (keyof typeof maps)[]) {
      deletion_auc[key] = deletionCurve(model, images, maps[key], labels, { steps: 20 }).meanAuc;
      maps[key].dispose();
    }
    images.dispose();
    log(`deletion AUC (lower is more faithful): ${JSON.stringify(deletion_auc)}`);
    return { presets, deletion_auc };
  } finally {
    model.dispose();
  }
}

// Runnable on its own (node dist/bench/model.js) as well as through bench/run.ts.
if (import.meta.url === `file://${process.argv[1]}`) {
  benchModel().then((result) => console.log(JSON.stringify(result)), (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
