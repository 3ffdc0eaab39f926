// libtorch's c10d through aplnet's addon, two processes over Gloo on loopback: the collectives,
// the differentiable sum that synchronised batch norm uses, DDP's Reducer against one process's
// full-batch gradients, and the failures (a dead peer, a missing peer) ending in bounded time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { availableBackends, worldFromEnv } from '../src/torch/index.js';
import { mlp } from './helpers/distributed-mlp.js';
import { lastJson, runRanks } from './helpers/ranks.js';

const WORKER = fileURLToPath(new URL('./helpers/distributed-worker.js', import.meta.url));

test('this build has the Gloo backend', () => {
  assert.ok(availableBackends().includes('gloo'), 'build the addon with libgloo-dev installed (scripts/setup.sh)');
});

test('allReduce, broadcast, allGather, allGatherObject, the store, barrier and the differentiable sum over two ranks', { timeout: 90_000 }, async () => {
  const results = await runRanks(WORKER, ['collectives'], { timeoutMs: 60_000 });
  for (const r of results) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stdout}\n${r.stderr}`);
  for (const r of results) {
    const out = lastJson<Record<string, unknown>>(r);
    assert.equal(out.world, 2);
    assert.deepEqual(out.sum, [3, 30, 1, 2]);
    assert.equal(out.avg, 1.5);
    assert.equal(out.max, 3);
    assert.deepEqual(out.broadcast, [6, 8]);
    assert.deepEqual(out.gathered, { shape: [2, 2], values: [0, 0.5, 1, 1.5] });
    assert.deepEqual(out.objects, [{ rank: 0, note: 'é' }, { rank: 1, note: 'éé' }]);
    assert.equal(out.greeting, 'from rank 0');
    assert.deepEqual(out.y, [3, 4]);
    assert.deepEqual(out.grad, [12, 16], 'the gradient of a sum over ranks is the sum of every rank\'s gradient');
  }
});

test("DDP's Reducer averages gradients over ranks: equal to one process's gradients over the whole batch", { timeout: 90_000 }, async () => {
  const results = await runRanks(WORKER, ['reducer'], { timeoutMs: 60_000 });
  for (const r of results) assert.equal(r.code, 0, `rank ${r.rank}: ${r.stdout}\n${r.stderr}`);
  const { x, target, params, loss } = mlp();
  loss(x, target).backward();
  const expected = params.flatMap((p) => Array.from(p.grad!.data<'float32'>()));
  for (const r of results) {
    const { grads, buckets } = lastJson<{ grads: number[][]; buckets: number[] }>(r);
    for (const step of grads) step.forEach((g, i) => assert.ok(Math.abs(g - expected[i]) < 1e-5, `rank ${r.rank} gradient ${i}: ${g} vs ${expected[i]}`));
    assert.ok(buckets.length >= 2, `after the first step the Reducer rebuilds its buckets by arrival order (got ${buckets})`);
  }
});

test('a rank whose peer dies mid-collective gets an Error within seconds, not a hang', { timeout: 60_000 }, async () => {
  const results = await runRanks(WORKER, ['die-in-allreduce'], { timeoutMs: 30_000, env: { APLNET_DIST_TIMEOUT: '300' } });
  assert.equal(results[1].code, 7);
  assert.equal(results[0].code, 0, results[0].stderr);
  const survivor = lastJson<{ error?: string; ms: number }>(results[0]);
  assert.match(survivor.error ?? '', /allReduce on rank 0 of 2 \(gloo\) failed: .*another rank stopped/);
  assert.ok(survivor.ms < 10_000, `noticed after ${survivor.ms} ms`);
});

test('a rank whose peers never arrive fails at the rendezvous timeout, naming the store', { timeout: 60_000 }, async () => {
  const [lone] = await runRanks(WORKER, ['collectives'], { ranks: [1], timeoutMs: 30_000, env: { APLNET_DIST_TIMEOUT: '2' } });
  assert.equal(lone.code, 1);
  assert.match(lastJson<{ error: string }>(lone).error, /rank 1 could not meet the other 1 rank\(s\) at the store 127\.0\.0\.1:\d+ within 2 s/);
});

test('worldFromEnv reads the torchrun variables and names what is wrong', () => {
  assert.equal(worldFromEnv({}), null);
  assert.equal(worldFromEnv({ WORLD_SIZE: '1' }), null);
  assert.deepEqual(worldFromEnv({ MASTER_ADDR: 'node-0', MASTER_PORT: '29500', RANK: '3', WORLD_SIZE: '4', LOCAL_RANK: '1' }), { masterAddr: 'node-0', masterPort: 29500, rank: 3, worldSize: 4, localRank: 1, timeoutMs: 600_000 });
  assert.throws(() => worldFromEnv({ WORLD_SIZE: '2', RANK: '0' }), /MASTER_ADDR, MASTER_PORT are not set/);
  assert.throws(() => worldFromEnv({ MASTER_ADDR: 'h', MASTER_PORT: '29500', RANK: '2', WORLD_SIZE: '2' }), /RANK="2" is not an integer from 0 to 1/);
  assert.throws(() => worldFromEnv({ MASTER_ADDR: 'h', MASTER_PORT: 'x', RANK: '0', WORLD_SIZE: '2' }), /MASTER_PORT="x"/);
});
