// The training loop, in the manner of fastai's Learner: a short core that trains and validates,
// with progress, logging, checkpoints, early stopping and interrupts as small callbacks.
import type { DataLoader } from '../data/index.js';
import { batchToTensors } from '../data/to-tensor.js';
import { F, fromTypedArray, tidy, type Optimizer, type Tensor } from '../torch/index.js';
import type { AplNet } from '../model/index.js';
import { perClassMetrics, confusionMatrix, macroF1, accuracy, rowsFromFlat, predictedClasses, negativeLogLikelihood, softmaxRows, collectLogits, type CollectedLogits } from '../eval/index.js';
import { learningRateAt, type ScheduleSpec } from './lr-schedule.js';
import type { LoopPosition } from './checkpoint.js';
import type { WeightEma } from './ema.js';
import { mixBatch, mixingEnabled, mixRandom, type MixSpec } from './mix-batch.js';

export interface EpochSummary {
  epoch: number;
  train_loss: number;
  train_acc: number;
  val_loss: number;
  val_acc: number;
  val_macro_f1: number;
  lr: number;
  img_s: number;
  seconds: number;
  /** With --ema, val_acc and val_macro_f1 are the average's; these are the trained weights' own, for comparison. */
  val_acc_live?: number;
  val_macro_f1_live?: number;
}

export interface BatchProgress {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  acc: number;
  imgPerSecond: number;
  /** Seconds since the epoch (or the resumed part of it) started. */
  seconds: number;
}

export interface Callback {
  beforeFit?(learner: Learner): void | Promise<void>;
  afterBatch?(learner: Learner, progress: BatchProgress): void;
  afterEpoch?(learner: Learner, summary: EpochSummary, validation: CollectedLogits): void | Promise<void>;
  /** Called when the loop stops for any reason other than an exception. */
  afterFit?(learner: Learner, reason: StopReason): void | Promise<void>;
}

export type StopReason = 'completed' | 'early-stopped' | 'interrupted';

export class NonFiniteLossError extends Error {}

/**
 * How a data-parallel rank joins the loop (src/train/distributed-data-parallel.ts): before each
 * forward; after each loss, where the ranks exchange their losses and stop requests so that all
 * stop, or fail, at the same step; at the end of an epoch's training (sums over ranks); and for
 * validation (each rank scores its block, all get every logit).
 */
export interface DataParallelStep {
  beforeForward(): void;
  agree(loss: number, stop: boolean): { losses: number[]; stop: boolean };
  reduceEpoch(sums: { seen: number; lossSum: number; correct: number }): { seen: number; lossSum: number; correct: number };
  collectValidation(model: AplNet, loader: DataLoader, device: string): Promise<CollectedLogits>;
}

export interface LearnerOptions {
  model: AplNet;
  optimizer: Optimizer;
  train: DataLoader;
  val: DataLoader;
  device: string;
  schedule: ScheduleSpec;
  epochs: number;
  classWeights?: Tensor | null;
  labelSmoothing: number;
  callbacks: Callback[];
  position: LoopPosition;
  /** Weight averaging: updated after every step; its network is the one validated (and so saved as best). */
  ema?: WeightEma | null;
  /** Mixup/CutMix of training batches, drawn from (seed, epoch, batch). */
  mix?: (MixSpec & { seed: number }) | null;
  /**
   * Replaces cross-entropy with the labels, given each image's path (distillation: KL to a teacher's
   * soft targets of those images + α·CE). Batches are not mixed when it is set.
   */
  loss?: TrainingLoss | null;
  /** Set when this process is one rank of a data-parallel world. */
  parallel?: DataParallelStep | null;
  /** Weight of the attention-pool map's normalised entropy added to the loss (0 or absent: none). */
  attentionEntropy?: number;
}

/**
 * The mean over the batch of each attention map's entropy divided by log(positions): 1 for a uniform
 * map, 0 for a map on one position. Its gradient sharpens the map toward the positions that already
 * carry most weight.
 */
export function attentionEntropy(attention: Tensor): Tensor {
  const [n, , h, w] = attention.shape;
  return tidy(() => {
    const a = attention.reshape([n, h * w]);
    return a.mul(a.clamp(1e-12, null).log()).sum([1]).mean([0]).neg().div(Math.log(h * w));
  });
}

export type TrainingLoss = (logits: Tensor, y: Tensor, paths: readonly string[]) => Tensor;

/** A mixed batch's second targets and weight: loss = λ·CE(y) + (1 − λ)·CE(yB), label smoothing in both. */
interface MixedTargets {
  yB: Tensor;
  lambda: number;
}

export class Learner {
  readonly model: AplNet;
  readonly optimizer: Optimizer;
  readonly options: LearnerOptions;
  position: LoopPosition;
  /** Set by a callback to end the loop after the current batch (interrupt) or epoch (early stop). */
  stopRequest: StopReason | null = null;

  constructor(options: LearnerOptions) {
    this.options = options;
    this.model = options.model;
    this.optimizer = options.optimizer;
    this.position = options.position;
  }

  /** The network that is validated and saved: the weight average when on, else the trained one. */
  get validatedModel(): AplNet {
    return (this.options.ema?.average as AplNet | undefined) ?? this.model;
  }

  private trainStep(x: Tensor, y: Tensor, mixed: MixedTargets | null, paths: readonly string[]): { loss: number; correct: number } {
    return tidy(() => {
      this.optimizer.lr = learningRateAt(this.position.globalStep, this.options.schedule);
      this.optimizer.zeroGrad();
      this.options.parallel?.beforeForward();
      const { logits, pooling } = this.model.forward(x);
      const lossOptions = { weight: this.options.classWeights ?? null, labelSmoothing: this.options.labelSmoothing };
      const classification = this.options.loss
        ? this.options.loss(logits, y, paths)
        : mixed
        ? F.crossEntropy(logits, y, lossOptions).mul(mixed.lambda).add(F.crossEntropy(logits, mixed.yB, lossOptions).mul(1 - mixed.lambda))
        : F.crossEntropy(logits, y, lossOptions);
      const entropyWeight = this.options.attentionEntropy ?? 0;
      const loss = entropyWeight > 0 && pooling ? classification.add(attentionEntropy(pooling.attention).mul(entropyWeight)) : classification;
      const { value, where } = this.options.parallel ? this.agreedLoss(loss.item(), this.options.parallel) : { value: loss.item(), where: '' };
      if (!Number.isFinite(value)) {
        throw new NonFiniteLossError(`the training loss became ${value}${where} at epoch ${this.position.epoch + 1}, step ${this.position.globalStep + 1}. Lower --lr (now ${this.options.schedule.peakLr}), check the images for corrupt values, or resume from the last checkpoint with --resume after lowering it.`);
      }
      loss.backward();
      this.optimizer.stepOnce();
      this.options.ema?.update(this.position.globalStep);
      const predicted = logits.argmax(1);
      const correct = predicted.eq(y).sum().item();
      // A mixed image counts as λ right when it names its first class, 1 − λ when it names its second.
      return { loss: value, correct: mixed ? mixed.lambda * correct + (1 - mixed.lambda) * predicted.eq(mixed.yB).sum().item() : correct };
    });
  }

  /** The mean of every rank's loss (the global batch's), and which ranks' were not finite; all ranks stop together. */
  private agreedLoss(mine: number, parallel: DataParallelStep): { value: number; where: string } {
    const { losses, stop } = parallel.agree(mine, this.stopRequest === 'interrupted');
    if (stop) this.stopRequest = 'interrupted';
    const bad = losses.flatMap((loss, rank) => (Number.isFinite(loss) ? [] : [rank]));
    return { value: losses.reduce((a, b) => a + b, 0) / losses.length, where: bad.length ? ` on rank ${bad.join(', ')}` : '' };
  }

  /** Validation logits: this process's, or in a data-parallel world every rank's block gathered in order. */
  private collect(model: AplNet): Promise<CollectedLogits> {
    const { parallel, val, device } = this.options;
    return parallel ? parallel.collectValidation(model, val, device) : collectLogits(model, val, device);
  }

  async fit(): Promise<StopReason> {
    for (const cb of this.options.callbacks) await cb.beforeFit?.(this);
    const { epochs, train } = this.options;
    let reason: StopReason = 'completed';
    while (this.position.epoch < epochs && !this.position.finished) {
      const epoch = this.position.epoch;
      const skip = this.position.batchInEpoch;
      const started = performance.now();
      let seen = 0, lossSum = 0, correct = 0, batchIndex = 0;
      this.model.train();
      for await (const batch of train.epoch(epoch)) {
        batchIndex += 1;
        if (batchIndex <= skip) continue; // resumed mid-epoch: these batches were already trained
        const mix = this.options.mix;
        const mixed = mix && !this.options.loss && mixingEnabled(mix) ? mixBatch(batch.x, batch.shape, batch.y, mix, mixRandom(mix.seed, epoch, batchIndex)) : null;
        const { x, y } = batchToTensors(mixed ? { ...batch, x: mixed.x, y: mixed.yA } : batch, this.options.device);
        const yB = mixed ? fromTypedArray(BigInt64Array.from(mixed.yB, (label) => BigInt(label)), [mixed.yB.length], { device: this.options.device }) : null;
        let step: { loss: number; correct: number };
        try {
          step = this.trainStep(x, y, mixed && yB ? { yB, lambda: mixed.lambda } : null, batch.paths);
        } finally {
          x.dispose();
          y.dispose();
          yB?.dispose();
        }
        this.position.globalStep += 1;
        this.position.batchInEpoch = batchIndex;
        seen += batch.y.length;
        lossSum += step.loss * batch.y.length;
        correct += step.correct;
        const seconds = (performance.now() - started) / 1000;
        const progress = { epoch, batch: batchIndex, batches: train.batchesPerEpoch, loss: lossSum / seen, acc: correct / seen, imgPerSecond: seen / seconds, seconds };
        for (const cb of this.options.callbacks) cb.afterBatch?.(this, progress);
        if (this.stopRequest === 'interrupted') break;
      }
      if (this.stopRequest === 'interrupted') {
        reason = 'interrupted';
        break;
      }
      if (this.options.parallel) ({ seen, lossSum, correct } = this.options.parallel.reduceEpoch({ seen, lossSum, correct }));
      const trainSeconds = (performance.now() - started) / 1000;
      const validation = await this.collect(this.validatedModel);
      const summary = this.summarize(epoch, seen, lossSum, correct, trainSeconds, validation, (performance.now() - started) / 1000);
      if (this.options.ema) {
        // The trained weights' own figures beside the average's: the EMA's effect, read off the same run.
        const live = this.summarize(epoch, seen, lossSum, correct, trainSeconds, await this.collect(this.model), 0);
        summary.val_acc_live = live.val_acc;
        summary.val_macro_f1_live = live.val_macro_f1;
        summary.seconds = (performance.now() - started) / 1000;
      }
      this.position.epoch += 1;
      this.position.batchInEpoch = 0;
      for (const cb of this.options.callbacks) await cb.afterEpoch?.(this, summary, validation);
      if (this.stopRequest === 'early-stopped') {
        reason = 'early-stopped';
        break;
      }
    }
    if (reason !== 'interrupted') this.position.finished = true;
    for (const cb of this.options.callbacks) await cb.afterFit?.(this, reason);
    return reason;
  }

  private summarize(epoch: number, seen: number, lossSum: number, correct: number, trainSeconds: number, val: CollectedLogits, seconds: number): EpochSummary {
    const rows = rowsFromFlat(val.logits, val.numClasses);
    const predictions = predictedClasses(rows);
    const matrix = confusionMatrix(Array.from(val.labels), predictions, val.numClasses);
    const names = Array.from({ length: val.numClasses }, (_, i) => String(i));
    return {
      epoch: epoch + 1,
      train_loss: seen ? lossSum / seen : NaN,
      train_acc: seen ? correct / seen : NaN,
      val_loss: val.labels.length ? negativeLogLikelihood(softmaxRows(rows), Array.from(val.labels)) : NaN,
      val_acc: val.labels.length ? accuracy(matrix) : NaN,
      val_macro_f1: val.labels.length ? macroF1(perClassMetrics(matrix, names)) : NaN,
      lr: this.optimizer.lr,
      img_s: seen / trainSeconds,
      seconds,
    };
  }
}
