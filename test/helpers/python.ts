// Runs the tests' PyTorch references with Debian's python3-torch (not the pyenv python first on PATH).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.APLNET_TEST_PYTHON ?? '/usr/bin/python3';
/** test/reference in the source tree (tests run from dist/test/…). */
export const REFERENCE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'reference');

export function runPythonReference(script: string, args: string[]): string {
  const path = join(REFERENCE_DIR, script);
  if (!existsSync(path)) throw new Error(`reference script missing: ${path}`);
  return execFileSync(PYTHON, [path, ...args], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: REFERENCE_DIR } });
}
