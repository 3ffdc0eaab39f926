// metrics.jsonl: one JSON line per epoch. Rewritten whole (atomically) each epoch, so a crash never
// leaves a half line, and a resumed run continues the same file.
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../io/index.js';
import type { Callback, EpochSummary } from '../learner.js';

export function readMetricsLog(path: string): EpochSummary[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter((line) => line.trim()).map((line, i) => {
    try {
      return JSON.parse(line) as EpochSummary;
    } catch {
      throw new Error(`${path}, line ${i + 1}, is not JSON; the file was edited or damaged`);
    }
  });
}

export function metricsLog(path: string): Callback {
  return {
    afterEpoch(_learner, summary) {
      // Keep only epochs before this one: after a resume, the log may hold epochs the checkpoint predates.
      const rows = readMetricsLog(path).filter((r) => r.epoch < summary.epoch);
      rows.push(summary);
      writeFileAtomic(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    },
  };
}
