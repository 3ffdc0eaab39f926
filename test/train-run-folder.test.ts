// Defects 1, 2, 3 and 5 of issue 9, through the real command line: the manifest's split column, one
// source of defaults on --resume, one writer per run folder, and a run that a kill at the wrong
// instant leaves resumable (checkpoint swap, first epoch, final calibration, stale temp files).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { acquireRunLock } from '../src/io/index.js';
import { runPath } from '../src/run/index.js';
import { aplnet, CLI, copyRun, trainArgs, trainTinyRunSync, TINY_CLASSES } from './helpers/tiny-run.js';

let root: string;
let run: string;
let data: string;

before(() => {
  ({ root, run, data } = trainTinyRunSync());
});
after(() => rmSync(root, { recursive: true, force: true }));

const lines = (path: string): string[] => readFileSync(path, 'utf8').trim().split('\n');

test('the manifest split column is honoured as written (defect 1)', () => {
  const manifest = join(root, 'manifest.csv');
  const rows = ['path,label,split'];
  const expected: Record<string, string> = {};
  for (const name of TINY_CLASSES) {
    readdirSync(join(data, name)).sort().forEach((file, i) => {
      const split = i < 4 ? 'train' : i < 6 ? 'val' : 'test';
      const path = relative(root, join(data, name, file));
      rows.push(`${path},${name},${split}`);
      expected[path] = split;
    });
  }
  writeFileSync(manifest, rows.join('\n') + '\n');
  const out = join(root, 'manifest-run');
  const trained = aplnet(trainArgs(manifest, out, root, '--epochs', '1'));
  assert.equal(trained.status, 0, trained.stderr);
  const split = JSON.parse(readFileSync(runPath(out, 'split'), 'utf8'));
  assert.deepEqual(split.assignments, expected);
  assert.equal(JSON.parse(readFileSync(runPath(out, 'config'), 'utf8')).splitKind, 'manifest');
  const refused = aplnet(trainArgs(manifest, join(root, 'manifest-run-2'), root, '--epochs', '1', '--split', '0.5,0.25,0.25'));
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /split column/);
});

test('--resume without --epochs keeps the run\'s own length; options that change the run are refused (defect 2)', () => {
  const copy = copyRun(run, root, 'resume-defaults');
  const resumed = aplnet(trainArgs(data, copy, root, '--resume'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /already finished 2 epochs/);
  assert.equal(lines(runPath(copy, 'metricsLog')).length, 2);
  const changed = aplnet(trainArgs(data, copy, root, '--resume', '--lr', '0.1'));
  assert.equal(changed.status, 1);
  assert.match(changed.stderr, /--lr 0\.1 \(the run has 0\.002\)/);
  const shorter = aplnet(trainArgs(data, copy, root, '--resume', '--epochs', '1'));
  assert.equal(shorter.status, 1);
  assert.match(shorter.stderr, /can only be extended/);
  const config = JSON.parse(readFileSync(runPath(copy, 'config'), 'utf8'));
  assert.equal(config.training.epochs, 2);
});

test('a second writer of a run folder is refused while the first runs (defect 3)', async () => {
  const out = join(root, 'locked');
  mkdirSync(out);
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    writeFileSync(join(out, '.lock'), JSON.stringify({ pid: sleeper.pid, host: hostname(), command: 'train', since: new Date().toISOString() }));
    const second = aplnet(trainArgs(data, out, root, '--epochs', '1'));
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`in use by "aplnet train" \\(process ${sleeper.pid}`));
    assert.ok(!existsSync(runPath(out, 'config')), 'the refused writer must not write anything');
  } finally {
    sleeper.kill();
  }
});

test('two trainings started at once into one folder: exactly one succeeds, the run is whole (defect 3)', async () => {
  const out = join(root, 'race');
  const start = () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [CLI, ...trainArgs(data, out, root, '--epochs', '1')]);
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('close', (code) => resolve({ code, stderr }));
  });
  const results = await Promise.all([start(), start()]);
  assert.deepEqual(results.map((r) => r.code).sort(), [0, 1], results.map((r) => r.stderr).join('\n---\n'));
  const loser = results.find((r) => r.code === 1)!;
  assert.match(loser.stderr, /in use by|already holds a run/);
  const predicted = aplnet(['predict', out, join(data, TINY_CLASSES[0])]);
  assert.equal(predicted.status, 0, predicted.stderr);
});

test('eight processes taking one folder\'s lock at once: one holds it, the others are refused naming it, and no lock is ever seen empty', async () => {
  const dir = join(root, 'lock-race');
  mkdirSync(dir);
  const lockModule = new URL('../src/io/index.js', import.meta.url).href;
  // Each child waits for the same instant, tries the lock, holds it a moment if it got it, and says which.
  const at = Date.now() + 700;
  const script = `const { acquireRunLock } = await import(${JSON.stringify(lockModule)});
    while (Date.now() < ${at}) {}
    try { const lock = acquireRunLock(${JSON.stringify(dir)}, 'race'); console.log('held'); await new Promise((r) => setTimeout(r, 500)); lock.release(); }
    catch (err) { console.log(/in use by "aplnet race"/.test(err.message) ? 'refused' : 'error ' + err.message); }`;
  const run = () => new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script]);
    let out = '';
    child.stdout.on('data', (chunk) => { out += chunk; });
    child.on('close', () => resolve(out.trim()));
  });
  const answers = await Promise.all(Array.from({ length: 8 }, run));
  assert.equal(answers.filter((a) => a === 'held').length, 1, answers.join(', '));
  assert.equal(answers.filter((a) => a === 'refused').length, 7, answers.join(', '));
  assert.ok(!existsSync(join(dir, '.lock')), 'released');
  assert.deepEqual(readdirSync(dir), [], 'no staged lock file is left behind');
});

test('a stale lock of a dead process is taken over', () => {
  const dir = join(root, 'stale-lock');
  mkdirSync(dir);
  // A pid above the kernel's pid_max (2^22) cannot be alive.
  writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), command: 'train', since: 'then' }));
  const lock = acquireRunLock(dir, 'test');
  assert.equal(JSON.parse(readFileSync(lock.path, 'utf8')).pid, process.pid);
  assert.throws(() => acquireRunLock(dir, 'again'), /in use by "aplnet test"|in use/);
  lock.release();
  assert.ok(!existsSync(join(dir, '.lock')));
});

test('a kill between the two renames of the checkpoint swap leaves a resumable run (defect 5)', () => {
  const copy = copyRun(run, root, 'swap');
  const checkpoint = runPath(copy, 'checkpointDir');
  // The instant after "checkpoint → checkpoint.old-PID" and before "writing → checkpoint".
  renameSync(checkpoint, `${checkpoint}.old-4242`);
  cpSync(`${checkpoint}.old-4242`, `${checkpoint}.writing-4242`, { recursive: true });
  mkdirSync(`${checkpoint}.writing-777`);
  writeFileSync(`${checkpoint}.writing-777/weights.safetensors`, 'half');
  writeFileSync(join(copy, '.model.safetensors.tmp-4243-abc123'), 'half a file');
  const resumed = aplnet(trainArgs(data, copy, root, '--resume', '--epochs', '3'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /recovered the checkpoint/);
  assert.match(resumed.stderr, /resuming at epoch 3/);
  assert.equal(lines(runPath(copy, 'metricsLog')).length, 3);
  const left = readdirSync(copy).filter((name) => name.includes('.writing-') || name.includes('.old-') || name.includes('.tmp-'));
  assert.deepEqual(left, []);
});

test('a kill during the first epoch leaves a run that --resume trains from the start (defect 5)', () => {
  const copy = copyRun(run, root, 'first-epoch');
  for (const file of ['checkpointDir', 'bestWeights', 'lastWeights', 'metricsLog', 'calibration'] as const) rmSync(runPath(copy, file), { recursive: true, force: true });
  const again = aplnet(trainArgs(data, copy, root, '--epochs', '1'));
  assert.equal(again.status, 1);
  assert.match(again.stderr, /--resume/);
  const resumed = aplnet(trainArgs(data, copy, root, '--resume'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /training again from epoch 1/);
  assert.equal(lines(runPath(copy, 'metricsLog')).length, 2);
  assert.ok(existsSync(runPath(copy, 'calibration')));
});

test('a kill during the final calibration: --resume calibrates, and predict refuses until then (defect 5)', () => {
  const copy = copyRun(run, root, 'calibration');
  rmSync(runPath(copy, 'calibration'));
  const image = join(data, TINY_CLASSES[1], readdirSync(join(data, TINY_CLASSES[1])).sort()[0]);
  assert.equal(aplnet(['predict', copy, image]).status, 1);
  const resumed = aplnet(trainArgs(data, copy, root, '--resume'));
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /calibrating now/);
  assert.ok(existsSync(runPath(copy, 'calibration')));
  const predicted = aplnet(['predict', copy, image]);
  assert.equal(predicted.status, 0, predicted.stderr);
});
