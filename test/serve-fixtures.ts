// A tiny trained run for the serve tests and benchmark: 8 real images × 3 classes, 1 epoch. Training
// runs through the CLI in a child process, as a user would, with its cache in a temp folder.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTempDir, realImages } from './data-fixtures.js';

export const cliPath = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
export const serveClasses = ['basophil', 'eosinophil', 'lymphocyte'];

export interface TinyRun {
  runDir: string;
  /** A real smear image that was not used for training. */
  sampleImage: string;
  cleanup(): Promise<void>;
}

export async function trainTinyRun(imagesPerClass = 8): Promise<TinyRun> {
  const root = await makeTempDir('serve');
  const data = join(root, 'data');
  for (const c of serveClasses) {
    await mkdir(join(data, c), { recursive: true });
    for (const path of await realImages(c, imagesPerClass)) await copyFile(path, join(data, c, basename(path)));
  }
  const runDir = join(root, 'run');
  await promisify(execFile)(process.execPath, [cliPath, 'train', data, '--out', runDir, '--epochs', '1', '--batch', '8', '--cache-dir', join(root, 'cache'), '--threads', '2'], { timeout: 120_000 });
  const [sampleImage] = (await realImages('neutrophil', 1));
  return { runDir, sampleImage, cleanup: () => rm(root, { recursive: true, force: true }) };
}
