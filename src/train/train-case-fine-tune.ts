// Fine-tuning the cell encoder end to end through the case model, from case labels only: each step
// reads one training case's images (augmented as in training), embeds them with the encoder (batch
// norm statistics kept as trained: a bag of one patient's cells is not a representative batch),
// pools them with the MIL head and back-propagates the case's cross-entropy into both. It starts
// from the frozen-encoder head, and the epoch is chosen on the validation cases' log-loss.
import { DataLoader, randomFor, shuffleInPlace, smearAugmentation, type DataSubset } from '../data/index.js';
import { batchToTensors } from '../data/to-tensor.js';
import type { AplNet, GatedAttentionMil } from '../model/index.js';
import { AdamW, F, tensor, tidy, type Tensor } from '../torch/index.js';
import type { TtaMode } from './run-files.js';
import { bagsOf, caseSubset, collectCellOutputs, type CaseBag } from './train-case-cells.js';
import { caseLogLoss, caseLogitsOf, disposeSnapshot, snapshot, type CaseEpoch } from './train-case-head.js';

export interface FineTuneOptions {
  epochs: number;
  encoderLr: number;
  headLr: number;
  weightDecay: number;
  seed: number;
  augment: boolean;
}

export const FINE_TUNE_DEFAULTS: FineTuneOptions = { epochs: 4, encoderLr: 1e-4, headLr: 5e-4, weightDecay: 1e-2, seed: 0, augment: true };

export interface FineTuneInput {
  encoder: AplNet;
  mil: GatedAttentionMil;
  train: { subset: DataSubset; bags: readonly CaseBag[] };
  val: { subset: DataSubset; bags: readonly CaseBag[] } | null;
  /** Patient id and label index of a cell, for rebuilding the validation bags after each epoch. */
  caseOf: (path: string) => { id: string; label: number } | undefined;
  cellTemperature: number;
  device: string;
  /** How validation cells are embedded, as the case model will read them (training steps see one augmented view). */
  tta: TtaMode;
}

export interface FineTuneResult {
  /** 0 when no epoch beat the frozen-encoder head on validation (the weights are then unchanged). */
  bestEpoch: number;
  history: CaseEpoch[];
  /** The validation bags embedded with the kept encoder (null without validation cases). */
  valBags: CaseBag[] | null;
}

async function embedBags(input: FineTuneInput): Promise<CaseBag[] | null> {
  if (!input.val) return null;
  const loader = new DataLoader(input.val.subset, { batchSize: 64, order: 'sequential', seed: 0, augmentation: null });
  return bagsOf(await collectCellOutputs(input.encoder, loader, input.device, input.tta), input.caseOf, input.cellTemperature);
}

/** Fine-tunes `encoder` and `mil` in place; on return both hold the best epoch's weights. */
export async function fineTuneCaseModel(input: FineTuneInput, options: FineTuneOptions, log: (line: string) => void = () => {}): Promise<FineTuneResult> {
  const { encoder, mil, train } = input;
  const decayOf = (m: AplNet | GatedAttentionMil, want: boolean) => m.namedParameters().filter(([name, t]) => (t.ndim > 1 && name.endsWith('weight')) === want).map(([, t]) => t);
  // Two optimizers, because one learning rate does not fit both: the encoder moves slowly.
  const optimizers = [
    new AdamW([{ params: decayOf(encoder, true) }, { params: decayOf(encoder, false), weightDecay: 0 }], { lr: options.encoderLr, weightDecay: options.weightDecay }),
    new AdamW([{ params: decayOf(mil, true) }, { params: decayOf(mil, false), weightDecay: 0 }], { lr: options.headLr, weightDecay: options.weightDecay }),
  ];
  const labels = input.val?.bags.map((bag) => bag.label) ?? [];
  const history: CaseEpoch[] = [];
  let valBags = await embedBags(input);
  let bestNll = valBags ? caseLogLoss(caseLogitsOf(mil, valBags), labels).nll : Infinity;
  log(`fine-tuning from the frozen-encoder head (validation cases log-loss ${Number.isFinite(bestNll) ? bestNll.toFixed(4) : '—'})`);
  let bestEpoch = 0;
  // The starting weights are the ones to beat (and to restore when no epoch beats them).
  let best: { encoder: Map<string, Tensor>; mil: Map<string, Tensor> } | null = { encoder: snapshot(encoder.stateDict()), mil: snapshot(mil.stateDict()) };
  const subsets = train.bags.map((bag) => caseSubset(train.subset, new Set(bag.paths)));
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = Date.now();
      encoder.eval();
      mil.train();
      let lossSum = 0;
      const order = shuffleInPlace(train.bags.map((_, i) => i), randomFor(options.seed, epoch, 0xf1e));
      for (const b of order) {
        const bag = train.bags[b];
        const loader = new DataLoader(subsets[b], { batchSize: subsets[b].images.length, order: 'shuffle', seed: options.seed, augmentation: options.augment ? smearAugmentation : null, prefetch: 0 });
        for await (const batch of loader.epoch(epoch)) {
          lossSum += tidy(() => {
            for (const o of optimizers) o.zeroGrad();
            const { x } = batchToTensors(batch, input.device);
            const { logits } = mil.forward(encoder.forward(x).embedding);
            const loss = F.crossEntropy(logits.unsqueeze(0), tensor([bag.label], { dtype: 'int64', device: input.device }));
            const value = loss.item();
            if (!Number.isFinite(value)) throw new Error(`the fine-tuning loss became ${value} at epoch ${epoch}; lower the encoder's learning rate`);
            loss.backward();
            // Batch norm stays in eval mode; its affine weights still learn through the optimizer.
            for (const o of optimizers) o.stepOnce();
            return value;
          });
        }
      }
      const record: CaseEpoch = { epoch, trainLoss: lossSum / train.bags.length, valNll: null, valAccuracy: null };
      const embedded = await embedBags(input);
      if (embedded) {
        const scores = caseLogLoss(caseLogitsOf(mil, embedded), labels);
        record.valNll = scores.nll;
        record.valAccuracy = scores.accuracy;
      }
      history.push(record);
      log(`fine-tune epoch ${epoch}/${options.epochs}  train loss ${record.trainLoss.toFixed(4)}${record.valNll === null ? '' : `  val cases log-loss ${record.valNll.toFixed(4)} accuracy ${(record.valAccuracy! * 100).toFixed(1)}%`}  ${((Date.now() - started) / 1000).toFixed(0)} s`);
      const score = record.valNll ?? -epoch;
      if (score < bestNll - 1e-9) {
        bestNll = score;
        bestEpoch = epoch;
        valBags = embedded;
        if (best) {
          disposeSnapshot(best.encoder);
          disposeSnapshot(best.mil);
        }
        best = { encoder: snapshot(encoder.stateDict()), mil: snapshot(mil.stateDict()) };
      }
    }
    if (best) {
      encoder.loadStateDict(best.encoder);
      mil.loadStateDict(best.mil);
    }
    return { bestEpoch, history, valBags };
  } finally {
    if (best) {
      disposeSnapshot(best.encoder);
      disposeSnapshot(best.mil);
    }
    for (const o of optimizers) o.dispose();
    encoder.eval();
    mil.eval();
  }
}
