// Data-parallel training, two processes over Gloo on loopback: 2 ranks × batch B train exactly what
// 1 process × batch 2B trains (synchronised batch norm, dropout off), `aplnet train --nproc 2`
// writes one run folder from rank 0, a killed rank ends the job within seconds naming the rank, and
// a run resumed by a different number of processes says what changed and continues.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../src/torch/index.js';
import { lastJson, rankPid, runRanks } from './helpers/ranks.js';
import { aplnet, CLI, tinyDataset, trainArgs } from './helpers/tiny-run.js';

const WORKER = fileURLToPath(new URL('../bench/ddp-worker.js', import.meta.url));
let root: string;
let data: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-ddp-'));
  data = tinyDataset(root);
});
after(() => rmSync(root, { recursive: true, force: true }));

interface WorkerOut {
  losses: number[];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function weightsDiff(pathA: string, pathB: string): number {
  const a = loadSafetensors(pathA).tensors;
  const b = loadSafetensors(pathB).tensors;
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  let max = 0;
  for (const [key, t] of a) max = Math.max(max, maxAbsDiff(t.toArray(), b.get(key)!.toArray()));
  return max;
}

/** `steps` steps of aplnet-s-ap at 64 px, global batch 8: one process, then two ranks of 4. */
async function compare(steps: number, extra: string[]): Promise<{ single: number[]; ranks: number[][]; weights: number }> {
  const args = [String(steps), '8', '64'];
  const singleOut = join(root, `single${extra.join('')}.safetensors`);
  const ddpOut = join(root, `ddp${extra.join('')}.safetensors`);
  const single = spawnSync(process.execPath, [WORKER, ...args, '2', singleOut, ...extra], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(single.status, 0, single.stderr);
  const ranks = await runRanks(WORKER, [...args, '1', ddpOut, ...extra], { timeoutMs: 120_000 });
  for (const r of ranks) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stderr}`);
  return {
    single: lastJson<WorkerOut>({ rank: -1, code: 0, signal: null, stdout: single.stdout, stderr: single.stderr, ms: 0 }).losses,
    ranks: ranks.map((r) => lastJson<WorkerOut>(r).losses),
    weights: weightsDiff(singleOut, ddpOut),
  };
}

test('2 processes × batch 4 give the losses and weights of 1 process × batch 8 (SGD, sync BN)', { timeout: 300_000 }, async () => {
  const { single, ranks, weights } = await compare(4, ['--sgd']);
  for (const losses of ranks) {
    assert.equal(losses.length, 4);
    assert.ok(maxAbsDiff(losses, single) < 1e-5, `losses ${losses} vs ${single}`);
  }
  assert.ok(weights < 1e-5, `weights differ by ${weights}`);
});

test("with training's AdamW the first step's loss agrees to float32 rounding; later steps are compared in float64 (below)", { timeout: 300_000 }, async () => {
  // Both start from the same weights, so step 1's loss is the same forward pass split in two.
  // Later float32 steps are not compared tightly: AdamW's normalised first step moves every weight
  // by ~lr whatever its gradient's size, so a near-zero gradient component whose rounding differs
  // in sign moves 2·lr apart (on real cells step 2 differs by ~5e-5 and step 3 by ~6e-4, as much as
  // one process against itself on reversed batches: bench ddp's rounding control).
  const { single, ranks } = await compare(4, []);
  for (const losses of ranks) assert.ok(Math.abs(losses[0] - single[0]) < 1e-6, `step 1: ${losses[0]} vs ${single[0]}`);
});

test("in float64, 2 processes × batch 4 give 1 process × batch 8's losses and weights over 5 AdamW steps to 1e-10", { timeout: 300_000 }, async () => {
  // float64 makes rounding ~2^29 times finer, so what DDP computes differently from one process
  // (bucketed averaging, sync BN's all-reduced statistics, the loss mean) would show here.
  const { single, ranks, weights } = await compare(5, ['--float64']);
  for (const losses of ranks) {
    assert.equal(losses.length, 5);
    assert.ok(maxAbsDiff(losses, single) < 1e-10, `losses ${losses} vs ${single}`);
  }
  assert.ok(weights < 1e-10, `weights differ by ${weights}`);
});

test('aplnet train --nproc 2: one run folder written by rank 0; resumed by one process, it says what changed and continues', { timeout: 300_000 }, () => {
  const run = join(root, 'nproc-run');
  const trained = aplnet([...trainArgs(data, run, root, '--epochs', '1', '--no-augment', '--sync-bn', '--nproc', '2')], { timeout: 240_000 });
  assert.equal(trained.status, 0, trained.stderr);
  assert.match(trained.stderr, /starting 2 ranks/);
  assert.doesNotMatch(trained.stderr, /\[rank 1\] (epoch|training|reading)/, 'only rank 0 reports');
  assert.deepEqual(JSON.parse(readFileSync(join(run, 'world.json'), 'utf8')), { worldSize: 2, globalBatch: 8, perProcessBatch: 4, syncBatchNorm: true, backend: 'gloo', fromStep: 0 });
  assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 1);
  assert.ok(existsSync(join(run, 'calibration.json')));
  assert.deepEqual(readdirSync(run).filter((f) => f.includes('.tmp') || f.startsWith('.lock')), []);

  const resumed = aplnet([...trainArgs(data, run, root, '--epochs', '2', '--resume')], { timeout: 240_000 });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /trained by 2 process\(es\) until step 2; it continues with 1: the global batch stays 8 \(now 8 per process\)/);
  assert.equal(readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').length, 2);
  assert.equal(JSON.parse(readFileSync(join(run, 'world.json'), 'utf8')).worldSize, 1);
});

test('--batch must split evenly between the processes', { timeout: 120_000 }, () => {
  const refused = aplnet([...trainArgs(data, join(root, 'odd'), root, '--epochs', '1', '--batch', '7', '--nproc', '2')], { timeout: 100_000 });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /--batch 7 is the global batch of all 2 processes and must split evenly/);
});

test('a killed rank ends the whole job within seconds, and the launcher names it', { timeout: 240_000 }, async () => {
  const run = join(root, 'killed');
  const launcher = spawn(process.execPath, [CLI, ...trainArgs(data, run, root, '--epochs', '200', '--patience', '0', '--no-augment', '--nproc', '2')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let killedAt = 0;
  const exited = new Promise<number | null>((resolve) => launcher.on('close', (code) => resolve(code)));
  const watchdog = setTimeout(() => launcher.kill('SIGKILL'), 200_000);
  launcher.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (!killedAt && /epoch 1\/200/.test(stderr)) {
      const pid = rankPid(launcher.pid!, 1);
      if (pid) {
        process.kill(pid, 'SIGKILL');
        killedAt = performance.now();
      }
    }
  });
  const code = await exited;
  clearTimeout(watchdog);
  assert.ok(killedAt > 0, `rank 1 was never found to kill:\n${stderr}`);
  const seconds = (performance.now() - killedAt) / 1000;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /aplnet: rank 1 of 2 was killed by SIGKILL: .*The other ranks were stopped\./);
  assert.ok(seconds < 15, `the job ended ${seconds.toFixed(1)} s after the kill`);
});
