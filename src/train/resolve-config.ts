// The one place a training configuration is decided: zod's defaults for a new run, the saved
// config.json for a resumed one. The CLI passes only what the user typed, so a default can never
// override a saved value, and an option that would change what is being trained is refused on
// --resume instead of silently changing the run.
import { resolve } from 'node:path';
import { parseTrainingConfig, type TrainingConfig } from './training-config.js';

/** What may differ on --resume: where and how fast it runs, where the data now lives, and a longer run. */
const CHANGEABLE_ON_RESUME = new Set<keyof TrainingConfig>(['epochs', 'device', 'threads', 'workers', 'cacheDir', 'data']);

const flag = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function resolveTrainingConfig(typed: Partial<TrainingConfig>, saved: TrainingConfig | null, log: (line: string) => void): TrainingConfig {
  if (!saved) return parseTrainingConfig(typed);
  const refused: string[] = [];
  for (const [key, value] of Object.entries(typed) as [keyof TrainingConfig, unknown][]) {
    if (value === undefined || CHANGEABLE_ON_RESUME.has(key)) continue;
    if (JSON.stringify(value) !== JSON.stringify(saved[key])) refused.push(`${flag(key)} ${JSON.stringify(value)} (the run has ${JSON.stringify(saved[key])})`);
  }
  if (refused.length > 0) {
    throw new Error(`--resume continues a run exactly as it was started; these options would change it: ${refused.join('; ')}. Drop them, or start a new run in another --out folder.`);
  }
  if (typed.epochs !== undefined && typed.epochs < saved.epochs) {
    throw new Error(`--epochs ${typed.epochs} is shorter than the run's ${saved.epochs}; a resumed run can only be extended (its learning-rate schedule depends on the length)`);
  }
  if (typed.data !== undefined && resolve(typed.data) !== resolve(saved.data)) {
    log(`reading the data from ${typed.data}; the run was started on ${saved.data} (the saved split names the same files)`);
  }
  const merged: Record<string, unknown> = { ...saved };
  for (const key of CHANGEABLE_ON_RESUME) if (typed[key] !== undefined) merged[key] = typed[key];
  return parseTrainingConfig(merged);
}
