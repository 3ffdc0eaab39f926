// A few optimizer steps of aplnet-s-ap, run either as one process on the whole global batch or as
// one rank of a data-parallel world on its share (DDP + sync BN). Shared by `npm run bench -- ddp`
// and the equality test. On fixed random images by default; on real cells (ddp-data.ts) with
// training's recipe when `cells` is given. Dropout is off: its random masks depend on how the
// batch is split, which no data-parallel scheme makes equal.
import { AdamW, F, SGD, keep, manualSeed, noGrad, randint, randn, tidy, type ParamGroup, type Tensor } from '../src/torch/index.js';
import { createModel, presetConfig, type AplNet } from '../src/model/index.js';
import { DistributedDataParallel } from '../src/train/distributed-data-parallel.js';
import { TRAINING_DEFAULTS } from '../src/train/index.js';
import { cellBatch, type CellBatches } from './ddp-data.js';

export interface StepsOptions {
  steps: number;
  globalBatch: number;
  size: number;
  /** Data-parallel: this rank's place; null for one process on the whole batch. */
  shard: { rank: number; worldSize: number } | null;
  syncBatchNorm: boolean;
  /** AdamW (training's) or plain SGD, whose weights follow the gradients linearly (the weight comparison). */
  optimizer?: 'adamw' | 'sgd';
  /**
   * Real cells, global batch `step` being images [step·n, (step+1)·n): then training's recipe, AdamW
   * with its weight decay on conv and linear weights only and its label smoothing, at `lr`.
   */
  cells?: CellBatches | null;
  /** AdamW's learning rate; default 1e-3. */
  lr?: number;
  /** One process only: every global batch last image first (same mathematics, another rounding). */
  reversed?: boolean;
  /** float64 everywhere (weights, activations, gradients, optimizer state): rounding 2^29 times finer than float32. */
  float64?: boolean;
}

/** Casts every parameter and buffer of the model to float64 in place (before the optimizer is made), as module.double() in PyTorch. */
function toFloat64(model: AplNet): void {
  for (const [, m] of model.namedModules()) {
    const own = m as unknown as { parametersByName: Map<string, Tensor>; buffersByName: Map<string, Tensor> };
    for (const [name, t] of own.parametersByName) {
      const cast = keep(noGrad(() => t.to('float64')));
      cast.requiresGrad = true;
      t.dispose();
      own.parametersByName.set(name, cast);
    }
    for (const [name, t] of own.buffersByName) {
      if (t.dtype !== 'float32') continue;
      const cast = keep(t.to('float64'));
      t.dispose();
      own.buffersByName.set(name, cast);
    }
  }
}

export interface StepsResult {
  /** The global batch's mean loss at every step. */
  losses: number[];
  /** Milliseconds per step after the first (warm-up) step. */
  msPerStep: number;
  /** CPU milliseconds (all of this process's threads, user + system) per step after the first: what a step costs whatever else runs. */
  cpuMsPerStep: number;
  /** Milliseconds per step in the step's own collectives (buffer broadcast, loss exchange). */
  collectiveMsPerStep: number;
  model: AplNet;
}

/** The global batch of `step`: the same images and labels whatever the world size. */
function globalBatch(step: number, n: number, size: number): { x: Tensor; y: Tensor } {
  manualSeed(1000 + step);
  return { x: randn([n, 3, size, size]), y: randint(0, 3, [n], { dtype: 'int64' }) };
}

/** As training's: weight decay on conv and linear weights only. */
function decayGroups(model: AplNet, weightDecay: number): ParamGroup[] {
  const decay: Tensor[] = [];
  const noDecay: Tensor[] = [];
  for (const [, p] of model.namedParameters()) (p.ndim > 1 ? decay : noDecay).push(p);
  return [{ params: decay, weightDecay }, { params: noDecay, weightDecay: 0 }];
}

export function trainSteps({ steps, globalBatch: n, size, shard, syncBatchNorm, optimizer: kind = 'adamw', cells = null, lr = 1e-3, reversed = false, float64 = false }: StepsOptions): StepsResult {
  manualSeed(0);
  if (cells && cells.side !== size) throw new Error(`trainSteps: the cells are ${cells.side} px, the model ${size} px`);
  if (cells && cells.labels.length < steps * n) throw new Error(`trainSteps: ${steps} steps of ${n} need ${steps * n} cells, ${cells.labels.length} were prepared`);
  const model = createModel({ ...presetConfig('aplnet-s-ap', cells ? cells.classNames.length : 3), inputSize: size, dropout: 0 });
  if (float64) toFloat64(model);
  const ddp = shard ? new DistributedDataParallel(model, shard, { syncBatchNorm }) : null;
  const optimizer = kind === 'sgd'
    ? new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 })
    : cells ? new AdamW(decayGroups(model, TRAINING_DEFAULTS.weightDecay), { lr }) : new AdamW(model.parameters(), { lr });
  const labelSmoothing = cells ? TRAINING_DEFAULTS.labelSmoothing : 0;
  if (reversed && (shard || !cells)) throw new Error('trainSteps: reversed batches are the one-process control on real cells');
  const local = shard ? n / shard.worldSize : n;
  const losses: number[] = [];
  let started = 0;
  let collectiveAtStart = 0;
  let cpuAtStart = process.cpuUsage();
  model.train();
  for (let step = 0; step < steps; step++) {
    if (step === 1) {
      started = performance.now();
      collectiveAtStart = ddp?.collectiveMs ?? 0;
      cpuAtStart = process.cpuUsage();
    }
    const batch = cells ? cellBatch(cells, step * n, n, reversed) : globalBatch(step, n, size);
    const { x, y } = float64 ? { x: batch.x.to('float64'), y: batch.y } : batch;
    if (float64) batch.x.dispose();
    tidy(() => {
      const from = shard ? shard.rank * local : 0;
      optimizer.zeroGrad();
      ddp?.beforeForward();
      const loss = F.crossEntropy(model.forward(x.slice(0, from, from + local)).logits, y.slice(0, from, from + local), { labelSmoothing });
      const mine = loss.item();
      const agreed = ddp ? ddp.agree(mine, false).losses : [mine];
      losses.push(agreed.reduce((a, b) => a + b, 0) / agreed.length);
      loss.backward();
      optimizer.stepOnce();
    });
    x.dispose();
    y.dispose();
  }
  const msPerStep = (performance.now() - started) / Math.max(1, steps - 1);
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuMsPerStep = (cpu.user + cpu.system) / 1000 / Math.max(1, steps - 1);
  const collectiveMsPerStep = ((ddp?.collectiveMs ?? 0) - collectiveAtStart) / Math.max(1, steps - 1);
  ddp?.detach();
  optimizer.dispose();
  return { losses, msPerStep, cpuMsPerStep, collectiveMsPerStep, model };
}

