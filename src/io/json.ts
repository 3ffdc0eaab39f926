// JSON files that a person may have edited or a crash may have cut short: read with an error that
// names the file and what to do, written atomically (temp + fsync + rename).
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Parses `path`; `whatIfMissing` tells the user what a missing file means and what to do. */
export function readJson<T = unknown>(path: string, whatIfMissing: string): T {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${whatIfMissing}`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${path} could not be read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${path} is not valid JSON (${(err as Error).message}); it may have been edited or truncated`);
  }
}
