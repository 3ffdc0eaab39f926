// Starts N processes as torchrun would (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK on
// loopback), each bounded by a timeout, and collects their exit status and output.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RankResult {
  rank: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the start of all ranks to this one's exit. */
  ms: number;
}

// One port rule for the launcher, the benchmark and the tests.
import { freePort } from '../../src/torch/index.js';
export { freePort };

/** The torchrun environment of `rank` in a loopback world. */
export function torchrunEnv(rank: number, worldSize: number, port: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: String(worldSize), LOCAL_RANK: String(rank), ...extra };
}

/** Runs `node script ...args` as every rank of a world; each is killed after timeoutMs. */
export async function runRanks(script: string, args: string[], { worldSize = 2, timeoutMs = 60_000, env = {} as NodeJS.ProcessEnv, ranks = undefined as number[] | undefined } = {}): Promise<RankResult[]> {
  const port = await freePort();
  const started = performance.now();
  return Promise.all((ranks ?? Array.from({ length: worldSize }, (_, r) => r)).map((rank) => new Promise<RankResult>((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env: torchrunEnv(rank, worldSize, port, env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ rank, code, signal, stdout, stderr, ms: performance.now() - started });
    });
  })));
}

/** The last JSON line a rank printed. */
export function lastJson<T = Record<string, unknown>>(result: RankResult): T {
  const line = result.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`rank ${result.rank} printed no JSON (exit ${result.code}, signal ${result.signal}):\n${result.stderr}`);
  return JSON.parse(line) as T;
}

/** The pid of `rank` among the launcher's children (read from their environment). */
export function rankPid(launcher: number, rank: number): number | null {
  const children = spawnSync('pgrep', ['-P', String(launcher)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  for (const pid of children) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`RANK=${rank}`)) return pid;
    } catch {
      // exited meanwhile
    }
  }
  return null;
}
