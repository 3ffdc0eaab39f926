// `npm run bench -- ddp [--steps 20] [--batch 32] [--size 144] [--rounds 2] [--lr 1e-3 (AdamW's)] [--part both|equality|speed] [--float64 1]`:
// data-parallel training of aplnet-s-ap on this machine, in two separate parts.
//
// Equality (is DDP the same computation?): 2 processes × batch B against 1 process × batch 2B, with
// the SAME threads per process (1 each) so that the only difference is the split of the batch:
// synchronised batch norm, dropout off, real pbc-8class cells at the preset's input size with their
// real labels, 20 steps, each of two optimizers: SGD (lr 0.01, momentum 0.9; its update is linear in
// the gradient, as in PyTorch's own DDP parity tests: the headline loss_max_abs_diff) and training's
// AdamW (weight decay on conv/linear weights, label smoothing; loss_max_abs_diff_adamw), whose
// normalised step turns rounding in near-zero gradient components into steps of up to lr. For each,
// the largest difference of the global batch's loss over all steps and the weights after the last
// step, and beside them the rounding control: the same one process run again on every batch served
// last image first (the same mathematics summed in another order), which shows how far this net and
// recipe carry a rounding difference by themselves — the floor no data-parallel implementation can go
// below (in float32, rounding moves some activations across ReLU and max-pool kinks, and each such
// crossing changes the gradient by a finite step). With --float64 1 the DDP-against-one-process
// comparisons also run in float64 (slow), where rounding is ~2^29 times finer: what is left there is
// whatever DDP computes differently.
//
// Speed (what a user gains): 2 processes × 1 thread against 1 process × 2 threads, the same global
// batch and cells, batch norm per process as users run it by default. img/s from the steps after
// the first; rounds alternate the setups and keep each one's fastest, and the 1-minute load is
// recorded beside every round, since speed figures only mean something on a quiet machine (under
// other jobs' load, two processes get two shares of the cores and a 2-thread process loses whole
// time slices at every intra-op barrier). One process × 1 thread is measured too, the base of the
// usual definition of scaling (2 × 1 thread against 1 × 1 thread), and every setup's CPU time per
// step: what DDP adds to the work of a step (communication, waiting), which load does not blur, so
// cpu_efficiency_vs_one_thread = CPU of 1 × 1 thread / CPU of both ranks bounds the efficiency a
// quiet machine can show.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, loadSafetensors } from '../src/torch/index.js';
import { prepareCells } from './ddp-data.js';

const WORKER = fileURLToPath(new URL('./ddp-worker.js', import.meta.url));

interface WorkerResult {
  rank: number;
  losses: number[];
  msPerStep: number;
  cpuMsPerStep: number;
  collectiveMsPerStep: number;
  allreduceMs: number;
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

/** Largest difference of the learned parameters, and of batch norm's running statistics, between two saved nets. */
function weightsMaxAbsDiff(pathA: string, pathB: string): { parameters: number; bn_running_stats: number } {
  const a = loadSafetensors(pathA).tensors;
  const b = loadSafetensors(pathB).tensors;
  const max = { parameters: 0, bn_running_stats: 0 };
  for (const [key, t] of a) {
    const other = b.get(key);
    if (!other) throw new Error(`bench ddp: ${key} is missing from ${pathB}`);
    const x = t.toArray();
    const y = other.toArray();
    const kind = /running_|num_batches_tracked/.test(key) ? 'bn_running_stats' : 'parameters';
    for (let i = 0; i < x.length; i++) max[kind] = Math.max(max[kind], Math.abs(x[i] - y[i]));
  }
  return { parameters: Number(max.parameters.toExponential(2)), bn_running_stats: Number(max.bn_running_stats.toExponential(2)) };
}

/** Per step, the largest difference between the losses of `runs` and `reference`. */
const lossDiffs = (reference: number[], runs: number[][]): number[] => reference.map((l, i) => Math.max(...runs.map((r) => Math.abs(r[i] - l))));
/** Steps, from the first, whose differences all stay within `tolerance`. */
const stepsWithin = (diffs: number[], tolerance: number): number => {
  const over = diffs.findIndex((d) => d > tolerance);
  return over < 0 ? diffs.length : over;
};
const exp2 = (x: number): number => Number(x.toExponential(2));

type Optimizer = 'sgd' | 'adamw';

/** How far DDP (or the control) strays from one process: per step and largest loss difference, and the weights after the last step. */
interface Comparison {
  loss_max_abs_diff: number;
  loss_abs_diff_by_step: number[];
  steps_within_1e_4: number;
  weights_max_abs_diff: { parameters: number; bn_running_stats: number };
}

function comparison(reference: WorkerResult, runs: WorkerResult[], referenceWeights: string, weights: string): Comparison {
  const diffs = lossDiffs(reference.losses, runs.map((r) => r.losses));
  return {
    loss_max_abs_diff: exp2(Math.max(...diffs)),
    loss_abs_diff_by_step: diffs.map(exp2),
    steps_within_1e_4: stepsWithin(diffs, 1e-4),
    weights_max_abs_diff: weightsMaxAbsDiff(referenceWeights, weights),
  };
}

/** float32: one process, the same process on reversed batches (the rounding control), then the DDP world; 1 thread each, so timing plays no part. */
async function compareFloat32(scratch: string, common: string[], flags: string[], worldSize: number): Promise<{ single: WorkerResult; ddp: Comparison; control: Comparison }> {
  const [singleOut, reversedOut, ddpOut] = ['single', 'reversed', 'ddp'].map((name) => `${scratch}-${name}.safetensors`);
  try {
    const [single, reversed] = await Promise.all([runWorker([...common, '1', singleOut, ...flags]), runWorker([...common, '1', reversedOut, ...flags, '--reversed'])]);
    const ranks = await runWorld(worldSize, [...common, '1', ddpOut, ...flags]);
    return { single, ddp: comparison(single, ranks, singleOut, ddpOut), control: comparison(single, [reversed], singleOut, reversedOut) };
  } finally {
    for (const path of [singleOut, reversedOut, ddpOut]) rmSync(path, { force: true });
  }
}

/** float64: one process and the DDP world, every tensor and the optimizer state in float64. */
async function compareFloat64(scratch: string, common: string[], flags: string[], worldSize: number): Promise<Comparison> {
  const [singleOut, ddpOut] = [`${scratch}-single64.safetensors`, `${scratch}-ddp64.safetensors`];
  try {
    const [single, ranks] = await Promise.all([runWorker([...common, '1', singleOut, ...flags, '--float64']), runWorld(worldSize, [...common, '1', ddpOut, ...flags, '--float64'])]);
    return comparison(single, ranks, singleOut, ddpOut);
  } finally {
    for (const path of [singleOut, ddpOut]) rmSync(path, { force: true });
  }
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
  const float64 = Number(o.float64 ?? 0) === 1;
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
      const recipes: Record<Optimizer, string> = {
        sgd: 'SGD lr 0.01, momentum 0.9 (no weight decay), label smoothing 0.05: the update is linear in the gradient, as in PyTorch\'s own DDP parity tests',
        adamw: `AdamW lr ${lr}, weight decay 0.05 on conv/linear weights, label smoothing 0.05 (training's defaults but the schedule)`,
      };
      const equality: Record<string, unknown> = {
        compared: `${worldSize} processes × batch ${batch / worldSize} vs 1 process × batch ${batch}, 1 thread per process`,
        steps, global_batch: batch, sync_bn: true, dropout: 0, model: 'aplnet-s-ap', size,
        data: `pbc-8class: ${steps * batch} real cells (seeded draw, 8 classes mixed), their real labels`,
      };
      for (const optimizer of ['sgd', 'adamw'] as const) {
        const flags = [...data, ...(optimizer === 'sgd' ? ['--sgd'] : [])];
        const f32 = await compareFloat32(scratch, common, flags, worldSize);
        console.error(`equality, ${optimizer}, float32: loss ${f32.single.losses[0].toFixed(4)} → ${f32.single.losses[steps - 1].toFixed(4)} over ${steps} steps; largest difference ${f32.ddp.loss_max_abs_diff.toExponential(2)} (DDP), ${f32.control.loss_max_abs_diff.toExponential(2)} (one process, batches reversed)`);
        const entry: Record<string, unknown> = {
          recipe: recipes[optimizer],
          loss_first: Number(f32.single.losses[0].toFixed(5)), loss_last: Number(f32.single.losses[steps - 1].toFixed(5)),
          ddp: f32.ddp,
          rounding_control: { compared: '1 process × batch 2B against itself with every batch served last image first (same mathematics, another summation order)', ...f32.control },
        };
        if (float64) {
          const f64 = await compareFloat64(scratch, common, flags, worldSize);
          console.error(`equality, ${optimizer}, float64: largest loss difference ${f64.loss_max_abs_diff.toExponential(2)} (DDP)`);
          entry.float64 = { compared: 'the same DDP against one process, every tensor and the optimizer state in float64', ...f64 };
        }
        equality[optimizer] = entry;
      }
      const sgd = equality.sgd as { ddp: Comparison; rounding_control: Comparison; float64?: Comparison };
      const adamw = equality.adamw as { ddp: Comparison; rounding_control: Comparison; float64?: Comparison };
      // The headline is SGD's: with an update linear in the gradient, a difference in the gradients
      // shows as one in the weights and losses without AdamW's normalisation magnifying it.
      Object.assign(out, {
        loss_max_abs_diff: sgd.ddp.loss_max_abs_diff,
        loss_max_abs_diff_of: `float32, ${recipes.sgd.split(',').slice(0, 2).join(',')}, ${steps} steps, largest over the steps`,
        loss_max_abs_diff_rounding_control: sgd.rounding_control.loss_max_abs_diff,
        loss_max_abs_diff_adamw: adamw.ddp.loss_max_abs_diff,
        adamw_rounding_control: adamw.rounding_control.loss_max_abs_diff,
        ...(float64 ? { loss_max_abs_diff_float64: sgd.float64!.loss_max_abs_diff, loss_max_abs_diff_float64_adamw: adamw.float64!.loss_max_abs_diff } : {}),
      });
      equality.note = 'In float32 the rounding control diverges as far as DDP does: rounding moves some activations across a ReLU or max-pool kink, which changes the gradient by a finite step, and training carries it on; no implementation avoids that. float64 (--float64 1) makes rounding 2^29 times finer: what DDP computes differently from one process shows there.';
      equality.load_1min_before = loadBefore;
      equality.load_1min_after = load1();
      out.equality = equality;
    }

    if (part !== 'equality') {
      let single: WorkerResult | null = null;
      let oneThread: WorkerResult | null = null;
      const cpu = { single: Infinity, oneThread: Infinity, ddp: Infinity };
      let ranks: WorkerResult[] | null = null;
      const perRound: Record<string, number>[] = [];
      for (let round = 0; round < rounds; round++) {
        const loadBefore = load1();
        const s = await runWorker([...common, '2', `${scratch}-speed-single.safetensors`, ...data]);
        if (!single || s.msPerStep < single.msPerStep) single = s;
        const t = await runWorker([...common, '1', `${scratch}-speed-single.safetensors`, ...data]);
        if (!oneThread || t.msPerStep < oneThread.msPerStep) oneThread = t;
        const r = await runWorld(worldSize, [...common, '1', `${scratch}-speed-ddp.safetensors`, ...data, '--local-bn']);
        const ddpMs = Math.max(...r.map((x) => x.msPerStep));
        if (!ranks || ddpMs < Math.max(...ranks.map((x) => x.msPerStep))) ranks = r;
        const ddpCpu = r.reduce((sum, x) => sum + x.cpuMsPerStep, 0);
        cpu.single = Math.min(cpu.single, s.cpuMsPerStep);
        cpu.oneThread = Math.min(cpu.oneThread, t.cpuMsPerStep);
        cpu.ddp = Math.min(cpu.ddp, ddpCpu);
        perRound.push({ load_1min_before: loadBefore, load_1min_after: load1(), single_ms_per_step: Math.round(s.msPerStep), one_thread_ms_per_step: Math.round(t.msPerStep), ddp_ms_per_step: Math.round(ddpMs), single_cpu_ms_per_step: Math.round(s.cpuMsPerStep), one_thread_cpu_ms_per_step: Math.round(t.cpuMsPerStep), ddp_cpu_ms_per_step_both_ranks: Math.round(ddpCpu) });
        console.error(`round ${round + 1}/${rounds} (load ${loadBefore}): 1 process × 2 threads ${s.msPerStep.toFixed(0)} ms/step, 1 process × 1 thread ${t.msPerStep.toFixed(0)} ms/step, ${worldSize} processes × 1 thread ${ddpMs.toFixed(0)} ms/step`);
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
        img_s_one_thread: round2(batch / (oneThread!.msPerStep / 1000)),
        efficiency_vs_one_thread: Number((imgSDdp / (worldSize * batch / (oneThread!.msPerStep / 1000))).toFixed(3)),
        cpu_ms_per_step: { single_2_threads: Math.round(cpu.single), one_thread: Math.round(cpu.oneThread), ddp_both_ranks: Math.round(cpu.ddp) },
        cpu_efficiency_vs_one_thread: Number((cpu.oneThread / cpu.ddp).toFixed(3)),
        collective_ms_per_step: round2(Math.max(...ranks!.map((r) => r.collectiveMsPerStep))),
        note: 'img/s and efficiency are only meaningful when the 1-minute load stays below the number of cores',
      };
    }
  } finally {
    for (const suffix of ['-cells.bin', '-cells.json', '-speed-single.safetensors', '-speed-ddp.safetensors']) rmSync(`${scratch}${suffix}`, { force: true });
  }
  // The keys first, in its order; what qualifies them after.
  const { equality, speed, ...keys } = out;
  const ordered: Record<string, unknown> = {};
  for (const key of ['world_size', 'img_s_ddp', 'img_s_single', 'scaling_efficiency', 'loss_max_abs_diff', 'allreduce_ms_per_step']) if (key in keys) ordered[key] = keys[key];
  return { ...ordered, ...keys, ...(equality ? { equality } : {}), ...(speed ? { speed } : {}) };
}
