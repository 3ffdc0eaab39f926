// `--nproc N`: starts N local ranks of the same command with torchrun's environment (MASTER_ADDR,
// MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK) and watches them. Rank 0's output passes through; the
// others' lines are prefixed with their rank. When a rank fails, the launcher stops the rest within
// seconds and says which rank failed and why. Ctrl-C reaches the ranks once, so they stop together
// at the same step (training saves its checkpoint); a second Ctrl-C kills them.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort, worldFromEnv } from '../torch/index.js';
import { deviceOfRank } from '../run/index.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
/** Set in the ranks this launcher starts, so a rank whose launcher dies stops too. */
const LAUNCHED = 'APLNET_LAUNCHED_RANK';
const KILL_AFTER_MS = 3000;
const TAIL_LINES = 20;

interface RankProcess {
  rank: number;
  child: ChildProcess;
  tail: string[];
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}


/** CPU threads for each of n ranks on this machine (torchrun sets OMP_NUM_THREADS=1; aplnet splits the cores). */
export const threadsPerRank = (nproc: number): number => Math.max(1, Math.floor(availableParallelism() / nproc));

/** Refuses --nproc inside a world that a launcher already started. */
export function checkNotInWorld(nproc: number): void {
  const world = worldFromEnv();
  if (world) throw new Error(`--nproc ${nproc} starts its own world, but this process is already rank ${world.rank} of ${world.worldSize} (WORLD_SIZE is set): drop --nproc under torchrun or a PyTorchJob`);
}

function pipeLines(stream: NodeJS.ReadableStream, rank: number, out: NodeJS.WritableStream, tail: string[] | null): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    if (rank === 0) out.write(chunk);
    pending += chunk;
    const lines = pending.split(/\r?\n|\r/);
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (rank !== 0) out.write(`[rank ${rank}] ${line}\n`);
      if (tail && line.trim()) {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
      }
    }
  });
  stream.on('end', () => {
    if (!pending) return;
    if (rank !== 0) out.write(`[rank ${rank}] ${pending}\n`);
    if (tail && pending.trim()) tail.push(pending);
  });
}

const describeExit = (exit: RankProcess['exit']): string => (exit?.signal ? `was killed by ${exit.signal}` : `exited with code ${exit?.code}`);

/**
 * Runs `args` (the command line after "aplnet", without --nproc) as nproc ranks and resolves to
 * the exit code: 0 when all succeeded, rank 0's code when all stopped on request, 1 on a failure.
 */
export async function launchRanks(nproc: number, args: string[], log = (line: string) => console.error(line)): Promise<number> {
  checkNotInWorld(nproc);
  const port = Number(process.env.MASTER_PORT) || (await freePort());
  const addr = process.env.MASTER_ADDR || '127.0.0.1';
  log(`starting ${nproc} ranks (${addr}:${port}, ${threadsPerRank(nproc)} thread(s) each)`);
  const ranks: RankProcess[] = [];
  let failure: RankProcess | null = null;
  let interrupts = 0;
  const stopAll = (signal: NodeJS.Signals) => {
    for (const r of ranks) if (!r.exit) r.child.kill(signal);
  };
  let killTimer: NodeJS.Timeout | null = null;
  const done = new Promise<void>((resolve) => {
    for (let rank = 0; rank < nproc; rank++) {
      const env = { ...process.env, MASTER_ADDR: addr, MASTER_PORT: String(port), RANK: String(rank), WORLD_SIZE: String(nproc), LOCAL_RANK: String(rank), [LAUNCHED]: '1' };
      // Own process group per rank: a terminal's Ctrl-C reaches the launcher only, which forwards it once.
      const child = spawn(process.execPath, [...process.execArgv, CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true });
      const entry: RankProcess = { rank, child, tail: [], exit: null };
      ranks.push(entry);
      pipeLines(child.stdout!, rank, process.stdout, null);
      pipeLines(child.stderr!, rank, process.stderr, entry.tail);
      child.on('error', (err) => {
        entry.tail.push(err.message);
      });
      child.on('exit', (code, signal) => {
        entry.exit = { code, signal };
        const failed = signal !== null || (code !== 0 && code !== 130);
        // Rank 0 ending last, after every other rank succeeded, ends with the command's own result
        // (predict exits 1 when an image could not be read): nothing to stop, and its output said why.
        const othersSucceeded = rank === 0 && ranks.length === nproc && ranks.every((r) => r === entry || (r.exit && r.exit.signal === null && r.exit.code === 0));
        if (failed && signal === null && othersSucceeded) return resolve();
        if (failed && !failure && interrupts === 0) {
          failure = entry;
          log(`aplnet: rank ${rank} ${describeExit(entry.exit)}; stopping the other ${nproc - 1} rank(s)`);
          stopAll('SIGTERM');
          killTimer = setTimeout(() => stopAll('SIGKILL'), KILL_AFTER_MS);
        }
        if (ranks.length === nproc && ranks.every((r) => r.exit)) resolve();
      });
    }
  });
  const onSignal = () => {
    interrupts += 1;
    stopAll(interrupts === 1 ? 'SIGINT' : 'SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (killTimer) clearTimeout(killTimer);
  }
  if (failure) {
    const f = failure as RankProcess;
    const reason = f.tail.filter((line) => !/^\s+at /.test(line)).slice(-3).join(' | ') || 'it printed nothing';
    throw new Error(`rank ${f.rank} of ${nproc} ${describeExit(f.exit)}: ${reason}. The other ranks were stopped.`);
  }
  return ranks[0].exit?.code ?? 1;
}

/** In a rank this launcher started: end when the launcher ends (its IPC channel closes), whatever the rank is doing. */
export function exitWithLauncher(): void {
  if (process.env[LAUNCHED] !== '1' || !process.send) return;
  process.on('disconnect', () => {
    console.error(`aplnet: rank ${process.env.RANK}: the launcher (aplnet --nproc) stopped; exiting`);
    process.exit(1);
  });
  process.channel?.unref();
}

/** argv without `name <value>` / `name=<value>`: what each rank is started with. */
export function withoutOption(argv: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) i += 1;
    else if (!argv[i].startsWith(`${name}=`)) out.push(argv[i]);
  }
  return out;
}

/**
 * `--nproc N` on predict or evaluate: starts N ranks of this same command (torchrun's environment,
 * the cores split between them unless --threads is given) and resolves to the job's exit code.
 * Null when this process is not the launcher: alone, or a rank, which then ends with its launcher
 * and runs a plain `--device cuda` on its own GPU (cuda:LOCAL_RANK), as torchrun users expect.
 */
export async function launchInferenceRanks(o: Record<string, unknown>): Promise<number | null> {
  const nproc = o.nproc as number | undefined;
  if (nproc !== undefined && nproc > 1) {
    const args = withoutOption(process.argv.slice(2), '--nproc');
    if (o.threads === undefined) args.push('--threads', String(threadsPerRank(nproc)));
    return launchRanks(nproc, args);
  }
  if (worldFromEnv()) {
    exitWithLauncher();
    if (typeof o.device === 'string') o.device = deviceOfRank(o.device);
  }
  return null;
}
