// A tiny real run for the application-layer tests: 8 real PBC images × 3 classes, trained for one
// epoch through the real command line (a child process), as a user would.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PBC_DIR = fileURLToPath(new URL('../../../../shared/data/pbc-8class/', import.meta.url));
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const TINY_CLASSES = ['basophil', 'eosinophil', 'lymphocyte'];

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function aplnet(args: string[], { timeout = 180_000 } = {}): CliResult {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A temp folder with `perClass` real images of each tiny class in class folders. */
export function tinyDataset(root: string, perClass = 8, classes = TINY_CLASSES): string {
  const data = join(root, 'data');
  for (const name of classes) {
    mkdirSync(join(data, name), { recursive: true });
    for (const file of readdirSync(join(PBC_DIR, name)).sort().slice(0, perClass)) copyFileSync(join(PBC_DIR, name, file), join(data, name, file));
  }
  return data;
}

export function trainArgs(data: string, out: string, root: string, ...extra: string[]): string[] {
  return ['train', data, '--out', out, '--batch', '8', '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache'), ...extra];
}

/** Trains the shared tiny run once; tests copy it before changing anything. */
export function trainTinyRunSync(): { root: string; data: string; run: string } {
  const root = mkdtempSync(join(tmpdir(), 'aplnet-run-'));
  const data = tinyDataset(root);
  const run = join(root, 'run');
  const trained = aplnet(trainArgs(data, run, root, '--epochs', '2'));
  if (trained.status !== 0) throw new Error(`training the tiny run failed:\n${trained.stderr}`);
  return { root, data, run };
}

/** A private copy of a run folder to damage. */
export function copyRun(run: string, root: string, name: string): string {
  const copy = join(root, name);
  cpSync(run, copy, { recursive: true });
  return copy;
}
