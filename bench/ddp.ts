// `npm run bench -- ddp [--steps 20] [--batch 32] [--size 144] [--rounds 2] [--lr 1e-3] [--part both|equality|speed]`:
// data-parallel training of aplnet-s-ap on this machine, in two separate parts.
//
// Equality (is DDP the same computation?): 2 processes × batch B against 1 process × batch 2B, with
// the SAME threads per process (1 each) so that the only difference is the split of the batch:
// synchronised batch norm, dropout off, real pbc-8class cells at the preset's input size with their
// real labels, training's AdamW (weight decay on conv/linear weights, label smoothing) at a sane
// learning rate. loss_max_abs_diff is the largest difference of the global batch's loss over all
// steps; the weights after the last step are compared too.
//
// Speed (what a user gains): 2 processes × 1 thread against 1 process × 2 threads, the same global
// batch and cells, batch norm per process as users run it by default. img/s from the steps after
// the first; rounds alternate the two setups and keep each one's fastest, and the 1-minute load is
// recorded beside every round, since speed figures only mean something on a quiet machine.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSafetensors } from '../src/torch/index.js';
import { prepareCells } from './ddp-data.js';

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

function weightsMaxAbsDiff(pathA: string, pathB: string): number {
  const a = loadSafetensors(pathA).tensors;
  const b = loadSafetensors(pathB).tensors;
  let max = 0;
  for (const [key, t] of a) {
    const other = b.get(key);
    if (!other) throw new Error(`bench ddp: ${key} is missing from ${pathB}`);
    const x = t.toArray();
    const y = other.toArray();
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  }
  return max;
}

const load1 = (): number => Number(loadavg()[0].toFixed(2));
const round2 = (x: number): number => Number(x.toFixed(2));

export async function benchDdp(o: Record<string, string | number>): Promise<Record<string, unknown>> {
  const steps = Number(o.steps ?? 20);
  const batch = Number(o.batch ?? 32);
  const size = Number(o.size ?? 144);
  const rounds = Number(o.rounds ?? 2);
  const lr = Number(o.lr ?? 1e-3);
  const part = String(o.part ?? 'both');
  if (!['both', 'equality', 'speed'].includes(part)) throw new Error(`--part must be both, equality or speed, got ${part}`);
  const worldSize = 2;
  if (batch % worldSize !== 0) throw new Error(`--batch ${batch} must split evenly between ${worldSize} processes`);
  const scratch = join(tmpdir(), `aplnet-bench-ddp-${process.pid}`);
  const cells = `${scratch}-cells`;
  const common = [String(steps), String(batch), String(size)];
  const data = ['--cells', cells, '--lr', String(lr)];
  const out: Record<string, unknown> = { world_size: worldSize };
  try {
    console.error(`decoding ${steps * batch} pbc-8class cells at ${size} px …`);
    await prepareCells(cells, steps * batch, size);

    if (part !== 'speed') {
      const loadBefore = load1();
      const singleOut = `${scratch}-single.safetensors`;
      const ddpOut = `${scratch}-ddp.safetensors`;
      const single = await runWorker([...common, '1', singleOut, ...data]);
      const ranks = await runWorld(worldSize, [...common, '1', ddpOut, ...data]);
      const byStep = single.losses.map((l, i) => Math.max(...ranks.map((r) => Math.abs(r.losses[i] - l))));
      const lossDiff = Math.max(...byStep);
      console.error(`equality: loss ${single.losses[0].toFixed(4)} → ${single.losses[steps - 1].toFixed(4)} over ${steps} steps; largest difference ${lossDiff.toExponential(2)}`);
      out.loss_max_abs_diff = Number(lossDiff.toExponential(2));
      out.equality = {
        compared: `${worldSize} processes × batch ${batch / worldSize} vs 1 process × batch ${batch}, 1 thread per process`,
        steps, global_batch: batch, sync_bn: true, dropout: 0, model: 'aplnet-s-ap', size,
        data: `pbc-8class: ${steps * batch} real cells (seeded draw, 8 classes mixed), their real labels`,
        recipe: `AdamW lr ${lr}, weight decay 0.05 on conv/linear weights, label smoothing 0.05 (training's defaults but the schedule)`,
        loss_first: Number(single.losses[0].toFixed(5)), loss_last: Number(single.losses[steps - 1].toFixed(5)),
        loss_abs_diff_by_step: byStep.map((d) => Number(d.toExponential(2))),
        weights_max_abs_diff: Number(weightsMaxAbsDiff(singleOut, ddpOut).toExponential(2)),
        load_1min_before: loadBefore, load_1min_after: load1(),
      };
    }

    if (part !== 'equality') {
      let single: WorkerResult | null = null;
      let ranks: WorkerResult[] | null = null;
      const perRound: Record<string, number>[] = [];
      for (let round = 0; round < rounds; round++) {
        const loadBefore = load1();
        const s = await runWorker([...common, '2', `${scratch}-speed-single.safetensors`, ...data]);
        if (!single || s.msPerStep < single.msPerStep) single = s;
        const r = await runWorld(worldSize, [...common, '1', `${scratch}-speed-ddp.safetensors`, ...data, '--local-bn']);
        const ddpMs = Math.max(...r.map((x) => x.msPerStep));
        if (!ranks || ddpMs < Math.max(...ranks.map((x) => x.msPerStep))) ranks = r;
        perRound.push({ load_1min_before: loadBefore, load_1min_after: load1(), single_ms_per_step: Math.round(s.msPerStep), ddp_ms_per_step: Math.round(ddpMs) });
        console.error(`round ${round + 1}/${rounds} (load ${loadBefore}): 1 process × 2 threads ${s.msPerStep.toFixed(0)} ms/step, ${worldSize} processes × 1 thread ${ddpMs.toFixed(0)} ms/step`);
      }
      const ddpMs = Math.max(...ranks!.map((r) => r.msPerStep));
      const imgSDdp = batch / (ddpMs / 1000);
      const imgSSingle = batch / (single!.msPerStep / 1000);
      Object.assign(out, {
        img_s_ddp: round2(imgSDdp),
        img_s_single: round2(imgSSingle),
        scaling_efficiency: Number((imgSDdp / imgSSingle).toFixed(3)),
        allreduce_ms_per_step: round2(Math.max(...ranks!.map((r) => r.allreduceMs))),
      });
      out.speed = {
        compared: `${worldSize} processes × 1 thread vs 1 process × 2 threads, global batch ${batch}, batch norm per process`,
        steps, cores: availableParallelism(), rounds: perRound,
        collective_ms_per_step: round2(Math.max(...ranks!.map((r) => r.collectiveMsPerStep))),
        note: 'img/s and efficiency are only meaningful when the 1-minute load stays below the number of cores',
      };
    }
  } finally {
    for (const suffix of ['-cells.bin', '-cells.json', '-single.safetensors', '-ddp.safetensors', '-speed-single.safetensors', '-speed-ddp.safetensors']) rmSync(`${scratch}${suffix}`, { force: true });
  }
  // The keys first, in its order; what qualifies them after.
  const { equality, speed, ...keys } = out;
  const ordered: Record<string, unknown> = {};
  for (const key of ['world_size', 'img_s_ddp', 'img_s_single', 'scaling_efficiency', 'loss_max_abs_diff', 'allreduce_ms_per_step']) if (key in keys) ordered[key] = keys[key];
  return { ...ordered, ...(equality ? { equality } : {}), ...(speed ? { speed } : {}) };
}
