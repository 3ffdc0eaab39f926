// Saves last.safetensors and the resumable checkpoint every epoch, and model.safetensors whenever
// validation macro-F1 improves (keep 'best') or every epoch (keep 'last': the end of the schedule is
// the model); early stopping reads the same record of the kept epoch.
import { saveCheckpoint } from '../checkpoint.js';
import type { Callback } from '../learner.js';

/** Which epoch's weights become model.safetensors. */
export type KeepEpoch = 'best' | 'last';

/** `weightsMetadata` binds the saved weights to the run's classes and preprocessing (see run-files.ts). */
export function checkpointing(paths: { best: string; last: string; checkpointDir: string }, weightsMetadata: Record<string, string>, keep: KeepEpoch = 'best'): Callback {
  return {
    afterEpoch(learner, summary) {
      const score = Number.isFinite(summary.val_macro_f1) ? summary.val_macro_f1 : -summary.train_loss;
      const position = learner.position;
      if (keep === 'last' || score > position.bestScore) {
        position.bestScore = score;
        position.bestEpoch = summary.epoch;
        position.epochsWithoutImprovement = 0;
        learner.validatedModel.save(paths.best, { ...weightsMetadata, epoch: String(summary.epoch), val_macro_f1: String(summary.val_macro_f1) });
      } else {
        position.epochsWithoutImprovement += 1;
      }
      learner.validatedModel.save(paths.last, { ...weightsMetadata, epoch: String(summary.epoch) });
      saveCheckpoint(paths.checkpointDir, learner.model, learner.optimizer, position, learner.options.ema?.average ?? null);
    },
    afterFit(learner, reason) {
      // An interrupt lands mid-epoch: save that exact position so --resume continues from it.
      const average = learner.options.ema?.average ?? null;
      if (reason === 'interrupted') saveCheckpoint(paths.checkpointDir, learner.model, learner.optimizer, learner.position, average);
      else saveCheckpoint(paths.checkpointDir, learner.model, learner.optimizer, { ...learner.position, finished: true }, average);
    },
  };
}

/** Stops after `patience` epochs without a better validation macro-F1 (0 = never). */
export function earlyStopping(patience: number, log: (line: string) => void): Callback {
  return {
    afterEpoch(learner) {
      if (patience > 0 && learner.position.epochsWithoutImprovement >= patience) {
        log(`early stopping: validation macro-F1 has not improved for ${patience} epochs (best ${learner.position.bestScore.toFixed(4)} at epoch ${learner.position.bestEpoch})`);
        learner.stopRequest = 'early-stopped';
      }
    },
  };
}

/** Ctrl-C finishes the current batch, saves a resumable checkpoint and stops; a second Ctrl-C exits at once. */
export function interruptHandler(log: (line: string) => void): Callback & { detach(): void } {
  let learnerRef: { stopRequest: string | null } | null = null;
  const onSignal = (): void => {
    if (learnerRef?.stopRequest === 'interrupted') {
      log('second interrupt: exiting without saving (the checkpoint of the last finished epoch is intact)');
      process.exit(130);
    }
    log('\ninterrupt: finishing this batch and saving a checkpoint (Ctrl-C again to quit at once)…');
    if (learnerRef) learnerRef.stopRequest = 'interrupted';
  };
  return {
    beforeFit(learner) {
      learnerRef = learner;
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    },
    afterFit() {
      this.detach();
    },
    /** Also called by the trainer when fit() throws, so the handlers never outlive training. */
    detach() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
