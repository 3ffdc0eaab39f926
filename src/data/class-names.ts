import { readFile } from 'node:fs/promises';
import { writeFileAtomicAsync } from '../io/index.js';
import { DataError } from './errors.js';

/**
 * The class list is saved with a run because a label index means nothing without it: a model
 * trained with one order and evaluated with another silently reports garbage.
 */
export async function saveClassNames(path: string, classNames: string[]): Promise<void> {
  await writeFileAtomicAsync(path, `${JSON.stringify(classNames, null, 2)}\n`);
}

export async function loadClassNames(path: string): Promise<string[]> {
  const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((name) => typeof name === 'string')) {
    throw new DataError(path, 'bad-config', 'expected a JSON array of class names');
  }
  if (new Set(parsed).size !== parsed.length) throw new DataError(path, 'bad-config', 'class names repeat');
  return parsed;
}

export function classIndexMap(classNames: string[]): Map<string, number> {
  return new Map(classNames.map((name, index) => [name, index]));
}
