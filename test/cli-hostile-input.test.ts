// Defects 6 and 7 of issue 9 at the command line, probed as a hostile tester would: FIFOs that
// used to block forever, absurd option values, and skipped inputs that must be named in full.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import { runPath } from '../src/run/index.js';
import { aplnet, trainArgs, trainTinyRunSync, TINY_CLASSES } from './helpers/tiny-run.js';

let root: string;
let run: string;
let data: string;

before(() => {
  ({ root, run, data } = trainTinyRunSync());
});
after(() => rmSync(root, { recursive: true, force: true }));

test('predict on a folder holding a FIFO named x.jpg answers within seconds and names it (defect 6)', () => {
  const folder = join(root, 'with-fifo');
  mkdirSync(folder);
  execFileSync('mkfifo', [join(folder, 'x.jpg')]);
  const image = join(data, TINY_CLASSES[0], readdirSync(join(data, TINY_CLASSES[0])).sort()[0]);
  writeFileSync(join(folder, 'cell.jpg'), readFileSync(image));
  const result = aplnet(['predict', run, folder, '--format', 'csv', '--threads', '1'], { timeout: 60_000 });
  assert.notEqual(result.status, null, 'predict hung on the FIFO');
  assert.match(result.stdout + result.stderr, /x\.jpg/);
  assert.match(result.stdout, /cell\.jpg,(basophil|eosinophil|lymphocyte),/);
});

test('train on a manifest naming a FIFO answers within seconds and names it (defect 6)', () => {
  const fifo = join(root, 'pipe.jpg');
  execFileSync('mkfifo', [fifo]);
  const rows = ['path,label'];
  for (const name of TINY_CLASSES) for (const file of readdirSync(join(data, name)).sort()) rows.push(`${relative(root, join(data, name, file))},${name}`);
  rows.push(`pipe.jpg,${TINY_CLASSES[0]}`);
  writeFileSync(join(root, 'fifo-manifest.csv'), rows.join('\n') + '\n');
  const out = join(root, 'fifo-run');
  const result = aplnet(trainArgs(join(root, 'fifo-manifest.csv'), out, root, '--epochs', '1'), { timeout: 120_000 });
  assert.notEqual(result.status, null, 'train hung on the FIFO');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /pipe\.jpg/);
  const skipped = readFileSync(runPath(out, 'skipped'), 'utf8');
  assert.match(skipped, /pipe\.jpg/);
});

test('absurd thread counts are refused with the allowed range (defect 6)', () => {
  for (const command of [['predict', run, data], ['evaluate', run], ['explain', run, data, '--out', join(root, 'x')], trainArgs(data, join(root, 'threads-run'), root).slice(0, 4)]) {
    const result = aplnet([...command, '--threads', '1000']);
    assert.equal(result.status, 1, command.join(' '));
    assert.match(result.stderr, new RegExp(`--threads must be from 1 to ${availableParallelism()}`));
  }
  assert.ok(!existsSync(join(root, 'threads-run')));
});

test('train writes every skipped file to skipped.csv, not only the first 20 (defect 7)', () => {
  const messy = join(root, 'messy');
  for (const name of TINY_CLASSES) {
    mkdirSync(join(messy, name), { recursive: true });
    for (const file of readdirSync(join(data, name)).sort()) writeFileSync(join(messy, name, file), readFileSync(join(data, name, file)));
    for (let i = 0; i < 10; i++) writeFileSync(join(messy, name, `broken-${i}.jpg`), 'not an image at all');
  }
  const out = join(root, 'messy-run');
  const result = aplnet(trainArgs(messy, out, root, '--epochs', '1'));
  assert.equal(result.status, 0, result.stderr);
  const rows = readFileSync(runPath(out, 'skipped'), 'utf8').trim().split('\n');
  assert.equal(rows.length, 1 + 3 * 10, rows.join('\n'));
  assert.match(result.stderr, /skipped\.csv/);
});
