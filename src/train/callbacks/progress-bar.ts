// One progress line per epoch on stderr: loss, accuracy, img/s and ETA, redrawn in place on a
// terminal and printed once per epoch otherwise (CI logs, pipes).
import type { Callback, EpochSummary } from '../learner.js';

export function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export function progressBar(epochs: number, stream: NodeJS.WriteStream = process.stderr): Callback {
  const interactive = stream.isTTY === true;
  let lastDraw = 0;
  let firstBatchOfRun = -1;
  return {
    afterBatch(_learner, p) {
      if (!interactive) return;
      const now = performance.now();
      if (now - lastDraw < 200 && p.batch < p.batches) return;
      lastDraw = now;
      if (firstBatchOfRun < 0 || p.batch < firstBatchOfRun) firstBatchOfRun = p.batch - 1;
      const done = p.batch - firstBatchOfRun;
      const eta = ((p.batches - p.batch) * p.seconds) / Math.max(1, done);
      const width = 24;
      const filled = Math.round((p.batch / p.batches) * width);
      stream.write(`\repoch ${p.epoch + 1}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} acc ${(100 * p.acc).toFixed(1)}% ${p.imgPerSecond.toFixed(0)} img/s ETA ${clock(eta)}\x1b[K`);
    },
    afterEpoch(_learner, s: EpochSummary) {
      firstBatchOfRun = -1;
      if (interactive) stream.write('\r\x1b[K');
      stream.write(`epoch ${s.epoch}/${epochs}  train loss ${s.train_loss.toFixed(4)} acc ${(100 * s.train_acc).toFixed(1)}%  val loss ${s.val_loss.toFixed(4)} acc ${(100 * s.val_acc).toFixed(1)}% macro-F1 ${s.val_macro_f1.toFixed(4)}  ${s.img_s.toFixed(0)} img/s  ${clock(s.seconds)}\n`);
    },
  };
}
