// `npm run bench -- ddp [--steps 20] [--batch 32] [--size 144] [--rounds 2] [--local-bn 1]`:
// data-parallel training on this machine's cores, 2 processes × 1 thread (Gloo over loopback)
// against 1 process × 2 threads, on the same global batch of aplnet-s-ap (dropout off) and the same
// images. img/s from the steps after the first; rounds alternate the two setups and keep each one's
// fastest, so a busy moment on a shared machine hurts both alike. loss_max_abs_diff compares every
// step's global-batch loss (synchronised batch norm unless --local-bn 1).
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./ddp-worker.js', import.meta.url));

interface WorkerResult {
  rank: number;
  losses: number[];
  msPerStep: number;
  collectiveMsPerStep: number;
  allreduceMs: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function runWorker(args: string[], env: NodeJS.ProcessEnv = {}): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
      if (code !== 0 || !line) reject(new Error(`ddp worker ${env.RANK ?? 'alone'} exited ${code}: ${stderr.slice(-2000)}`));
      else resolve(JSON.parse(line) as WorkerResult);
    });
  });
}

async function runWorld(worldSize: number, args: string[]): Promise<WorkerResult[]> {
  const port = await freePort();
  return Promise.all(Array.from({ length: worldSize }, (_, rank) =>
    runWorker(args, { MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(rank) })));
}

export async function benchDdp(o: Record<string, string | number>): Promise<Record<string, unknown>> {
  const steps = Number(o.steps ?? 20);
  const batch = Number(o.batch ?? 32);
  const size = Number(o.size ?? 144);
  const rounds = Number(o.rounds ?? 2);
  const localBn = Number(o['local-bn'] ?? 0) === 1;
  const worldSize = 2;
  const common = [String(steps), String(batch), String(size)];
  const flags = localBn ? ['--local-bn'] : [];
  const loadBefore = loadavg()[0];
  let single: WorkerResult | null = null;
  let ranks: WorkerResult[] | null = null;
  for (let round = 0; round < rounds; round++) {
    const s = await runWorker([...common, '2', join(tmpdir(), `aplnet-bench-ddp-single-${process.pid}.safetensors`), ...flags]);
    if (!single || s.msPerStep < single.msPerStep) single = s;
    const r = await runWorld(worldSize, [...common, '1', join(tmpdir(), `aplnet-bench-ddp-${process.pid}.safetensors`), ...flags]);
    if (!ranks || Math.max(...r.map((x) => x.msPerStep)) < Math.max(...ranks.map((x) => x.msPerStep))) ranks = r;
    console.error(`round ${round + 1}/${rounds}: 1 process × 2 threads ${s.msPerStep.toFixed(0)} ms/step, ${worldSize} processes × 1 thread ${Math.max(...r.map((x) => x.msPerStep)).toFixed(0)} ms/step`);
  }
  const ddpMs = Math.max(...ranks!.map((r) => r.msPerStep));
  const img_s_ddp = batch / (ddpMs / 1000);
  const img_s_single = batch / (single!.msPerStep / 1000);
  let lossDiff = 0;
  for (const r of ranks!) r.losses.forEach((l, i) => (lossDiff = Math.max(lossDiff, Math.abs(l - single!.losses[i]))));
  return {
    steps, global_batch: batch, size, sync_bn: !localBn, model: 'aplnet-s-ap (dropout 0)', rounds,
    load_avg_before: Number(loadBefore.toFixed(2)), load_avg_after: Number(loadavg()[0].toFixed(2)),
    collective_ms_per_step: Number(Math.max(...ranks!.map((r) => r.collectiveMsPerStep)).toFixed(2)),
    world_size: worldSize,
    img_s_ddp: Number(img_s_ddp.toFixed(2)),
    img_s_single: Number(img_s_single.toFixed(2)),
    scaling_efficiency: Number((img_s_ddp / img_s_single).toFixed(3)),
    loss_max_abs_diff: Number(lossDiff.toExponential(2)),
    allreduce_ms_per_step: Number(Math.max(...ranks!.map((r) => r.allreduceMs)).toFixed(2)),
  };
}
