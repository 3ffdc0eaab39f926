// Sharded inference, two ranks over Gloo on loopback through `--nproc 2`: predict gives exactly the
// one-process output (table, CSV, JSON, case summary, overlays) in input order, with an unreadable
// file among the images; evaluate writes the same metrics and calibration; a killed rank ends the
// job within seconds and the launcher names it. A tiny run at 64 px keeps every command short.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rankPid } from './helpers/ranks.js';
import { aplnet, CLI, tinyDataset, trainArgs, type CliResult } from './helpers/tiny-run.js';
import { decodeValue, encodeValue } from '../src/run/sharded-transfer.js';
import { roundsOf } from '../src/run/sharded-world.js';

let root: string;
let run: string;
let images: string;
let cache: string;

/** The launcher's own line, the only one a sharded command adds. */
const withoutLauncher = (stderr: string) => stderr.split('\n').filter((line) => !/^starting 2 ranks \(/.test(line)).join('\n');

before(() => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-sharded-'));
  cache = join(root, 'cache');
  const data = tinyDataset(root);
  run = join(root, 'run');
  const trained = aplnet(trainArgs(data, run, root, '--epochs', '1', '--size', '64', '--no-augment'), { timeout: 240_000 });
  assert.equal(trained.status, 0, trained.stderr);
  // Ten files in a folder: nine cells and, among them, one file that is no image.
  images = join(root, 'images');
  mkdirSync(images);
  const cells = readdirSync(data).flatMap((name) => readdirSync(join(data, name)).map((file) => join(data, name, file))).sort().slice(0, 9);
  cells.forEach((file, i) => copyFileSync(file, join(images, `cell-${i}.jpg`)));
  writeFileSync(join(images, 'cell-4b.jpg'), 'not an image at all');
});
after(() => rmSync(root, { recursive: true, force: true }));

test('what ranks send arrives bit for bit: typed arrays (any offset), NaN, Inf, -0, nested results', () => {
  const backing = new Float32Array([9, 1.5, -2.25, Math.fround(0.1), 9]);
  const value = [
    { file: 'a.jpg', ok: true, probabilities: { '0': 0.25, basophil: 0.75 }, ood: { score: NaN, threshold: Infinity, flagged: true }, shift: -0, referReason: null,
      pixels: Uint8Array.from([0, 255, 7]), embedding: backing.subarray(1, 4), maps: { 'attention-pool': { data: new Float32Array([0.5]), width: 1, height: 1 } }, notes: ['x'] },
    { file: 'b.jpg', ok: false, reason: 'corrupt', message: 'b.jpg: corrupt' },
  ];
  const back = decodeValue<typeof value>(encodeValue(value));
  assert.deepEqual(back, value);
  const first = back[0] as (typeof value)[0];
  assert.ok(Number.isNaN(first.ood!.score) && first.ood!.threshold === Infinity && Object.is(first.shift, -0));
  assert.ok(first.embedding instanceof Float32Array && first.pixels instanceof Uint8Array);
  assert.deepEqual(Object.keys(first.probabilities ?? {}), ['0', 'basophil'], 'class order kept');
});

test('rounds of one batch per rank cover every item once, in order when gathered rank by rank', () => {
  for (const [n, perRank, world] of [[10, 2, 2], [7, 3, 2], [1, 4, 3], [0, 2, 2], [65, 64, 2]] as const) {
    const shares = Array.from({ length: world }, (_, rank) => roundsOf(n, perRank, rank, world));
    const gathered: number[] = [];
    for (let round = 0; round < shares[0].length; round++) {
      for (const share of shares) {
        assert.equal(share.length, shares[0].length, 'every rank runs the same number of rounds (each is a collective)');
        for (let i = share[round].start; i < share[round].end; i++) gathered.push(i);
      }
    }
    assert.deepEqual(gathered, Array.from({ length: n }, (_, i) => i), `n=${n} perRank=${perRank} world=${world}`);
  }
});

/** predict alone and with --nproc 2, same options (--batch 2: rank 1 gets images in every other round). */
function predictBoth(name: string, ...options: string[]): { single: CliResult; sharded: CliResult; outDir: (which: string) => string } {
  const outDir = (which: string) => join(root, `${name}-${which}`);
  const args = (which: string) => ['predict', run, images, '--threads', '1', '--batch', '2', ...options.map((o) => o.replace('{out}', outDir(which)))];
  const single = aplnet(args('single'), { timeout: 120_000 });
  const sharded = aplnet([...args('sharded'), '--nproc', '2'], { timeout: 120_000 });
  return { single, sharded, outDir };
}

test('predict --nproc 2: the CSV, the case summary and the overlays of one process, in input order, the unreadable file named', { timeout: 300_000 }, () => {
  const { single, sharded, outDir } = predictBoth('csv', '--format', 'csv', '--case', 'patient-7', '--case-out', '{out}.json', '--overlays', '{out}');
  assert.equal(single.status, 1, single.stderr);
  assert.equal(sharded.status, 1, sharded.stderr);
  assert.match(sharded.stderr, /starting 2 ranks/);
  assert.match(sharded.stderr, /cell-4b\.jpg: not-an-image/);
  assert.match(sharded.stderr, /1 of 10 images could not be predicted/);
  assert.doesNotMatch(sharded.stderr, /rank \d of 2 (exited|was killed)/, 'an unreadable image is the result, not a failed rank');
  assert.equal(sharded.stdout, single.stdout);
  assert.equal(withoutLauncher(sharded.stderr).replaceAll(outDir('sharded'), outDir('single')), single.stderr);
  const files = sharded.stdout.trim().split('\n').slice(1).map((row) => row.split(',')[0]);
  assert.deepEqual(files, [...files].sort(), 'rows in input (sorted listing) order');
  assert.equal(files.length, 10);
  assert.deepEqual(JSON.parse(readFileSync(`${outDir('sharded')}.json`, 'utf8')), JSON.parse(readFileSync(`${outDir('single')}.json`, 'utf8')));
  const overlays = readdirSync(outDir('single')).sort();
  assert.ok(overlays.length >= 9, `overlays: ${overlays}`);
  assert.deepEqual(readdirSync(outDir('sharded')).sort(), overlays);
  for (const file of overlays) assert.ok(readFileSync(join(outDir('sharded'), file)).equals(readFileSync(join(outDir('single'), file))), `${file} differs`);
});

test('predict --nproc 2: the JSON (every probability to the last bit, the OOD score) and the table of one process', { timeout: 300_000 }, () => {
  const json = predictBoth('json', '--format', 'json');
  assert.equal(json.sharded.stdout, json.single.stdout);
  const parsed = JSON.parse(json.sharded.stdout) as { file: string; ok: boolean; ood?: unknown }[];
  assert.equal(parsed.length, 10);
  assert.equal(parsed.filter((r) => !r.ok).length, 1);
  assert.ok(parsed.filter((r) => r.ok).every((r) => r.ood !== undefined));
  const table = predictBoth('table', '--format', 'table', '--case', 'patient-7');
  assert.equal(table.sharded.stdout, table.single.stdout);
  assert.match(table.sharded.stdout, /patient-7/);
});

test('evaluate --nproc 2 writes the metrics and calibration of one process (rank 0 alone writes)', { timeout: 300_000 }, () => {
  // 66 labelled cells and one broken file: rank 1 scores the second batch of 64.
  const labelled = join(root, 'labelled');
  mkdirSync(labelled);
  cpSync(tinyDataset(join(root, 'labelled-src'), 22), labelled, { recursive: true });
  writeFileSync(join(labelled, 'basophil', 'zz-broken.jpg'), 'garbage');
  const copies = ['single', 'sharded'].map((which) => {
    const copy = join(root, `eval-${which}`);
    cpSync(run, copy, { recursive: true });
    return copy;
  });
  const args = (copy: string) => ['evaluate', copy, labelled, '--threads', '1', '--workers', '0', '--cache-dir', cache];
  const single = aplnet(args(copies[0]), { timeout: 200_000 });
  assert.equal(single.status, 0, single.stderr);
  const sharded = aplnet([...args(copies[1]), '--nproc', '2'], { timeout: 200_000 });
  assert.equal(sharded.status, 0, sharded.stderr);
  assert.doesNotMatch(sharded.stderr, /\[rank 1\]/, 'rank 1 says nothing');
  assert.equal(sharded.stdout.replaceAll(copies[1], copies[0]), single.stdout);
  const metrics = (copy: string) => {
    const { run: _run, evaluatedAt: _at, ...rest } = JSON.parse(readFileSync(join(copy, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    return rest;
  };
  assert.deepEqual(metrics(copies[1]), metrics(copies[0]));
  assert.equal(readFileSync(join(copies[1], 'calibration.json'), 'utf8'), readFileSync(join(copies[0], 'calibration.json'), 'utf8'));
  assert.equal(readFileSync(join(copies[1], 'skipped-evaluate.csv'), 'utf8'), readFileSync(join(copies[0], 'skipped-evaluate.csv'), 'utf8'));
  assert.deepEqual(readdirSync(copies[1]).filter((f) => f.includes('.tmp') || f.startsWith('.lock')), []);
});

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test('a rank killed while predicting ends the whole job within seconds, named by the launcher, with no output', { timeout: 240_000 }, async () => {
  // Enough images, one per round, that rank 1 is still predicting when it is killed.
  const many = join(root, 'many');
  mkdirSync(many);
  const cells = readdirSync(images).filter((f) => f !== 'cell-4b.jpg');
  for (let copy = 0; copy < 40; copy++) for (const file of cells) copyFileSync(join(images, file), join(many, `${copy}-${file}`));
  const launcher = spawn(process.execPath, [CLI, 'predict', run, many, '--format', 'csv', '--batch', '1', '--threads', '1', '--nproc', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  launcher.stdout.on('data', (chunk) => (stdout += chunk));
  launcher.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => launcher.on('close', (code) => resolve(code)));
  let killedAt = 0;
  let running = true;
  void exited.then(() => (running = false));
  // Once rank 1 has had 2.5 s of CPU it has started, joined and is predicting (start-up takes about 1 s).
  while (running && !killedAt) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const pid = rankPid(launcher.pid!, 1);
    try {
      if (pid && cpuSeconds(pid) >= 2.5) {
        process.kill(pid, 'SIGKILL');
        killedAt = performance.now();
      }
    } catch {
      // exited meanwhile
    }
  }
  const watchdog = setTimeout(() => launcher.kill('SIGKILL'), 120_000);
  const code = await exited;
  clearTimeout(watchdog);
  assert.ok(killedAt > 0, `rank 1 was never killed (the job ended first):\n${stderr}`);
  const seconds = (performance.now() - killedAt) / 1000;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /aplnet: rank 1 of 2 was killed by SIGKILL: .*The other ranks were stopped\./);
  assert.equal(stdout, '', 'no partial output');
  assert.ok(seconds < 15, `the job ended ${seconds.toFixed(1)} s after the kill`);
});
