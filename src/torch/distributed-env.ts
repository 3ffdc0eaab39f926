// The launch contract torchrun, SLURM wrappers and Kubernetes' PyTorchJob all follow: each process
// finds its place in the world in MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE and LOCAL_RANK.
// aplnet reads the same variables, so any of those launchers starts it unchanged.
import { createServer } from 'node:net';
import { DEFAULT_PROCESS_GROUP_TIMEOUT_MS } from './distributed.js';

export interface WorldEnv {
  masterAddr: string;
  masterPort: number;
  rank: number;
  worldSize: number;
  /** The rank among the processes of this machine: picks cuda:LOCAL_RANK on a GPU machine. */
  localRank: number;
  /** Bounds the rendezvous and every collective (APLNET_DIST_TIMEOUT seconds; default 600). */
  timeoutMs: number;
}

export const TORCHRUN_VARIABLES = ['MASTER_ADDR', 'MASTER_PORT', 'RANK', 'WORLD_SIZE', 'LOCAL_RANK'] as const;

function integer(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const text = env[name];
  const value = Number(text);
  if (text === undefined || text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${JSON.stringify(text ?? '')} is not an integer from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}; the launcher (torchrun, aplnet --nproc, a PyTorchJob) sets it`);
  }
  return value;
}

/**
 * This process's place in a data-parallel world, or null when it runs alone (WORLD_SIZE unset or
 * 1). A partial or malformed environment is an error naming the variable, never a silent run alone.
 */
export function worldFromEnv(env: NodeJS.ProcessEnv = process.env): WorldEnv | null {
  if (env.WORLD_SIZE === undefined || env.WORLD_SIZE.trim() === '1') return null;
  const worldSize = integer(env, 'WORLD_SIZE', 1);
  const missing = TORCHRUN_VARIABLES.filter((name) => name !== 'LOCAL_RANK' && env[name] === undefined);
  if (missing.length) throw new Error(`WORLD_SIZE=${worldSize} but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set: a data-parallel rank needs all of ${TORCHRUN_VARIABLES.join(', ')}`);
  const rank = integer(env, 'RANK', 0, worldSize - 1);
  const timeoutSeconds = env.APLNET_DIST_TIMEOUT === undefined ? DEFAULT_PROCESS_GROUP_TIMEOUT_MS / 1000 : integer(env, 'APLNET_DIST_TIMEOUT', 1);
  return {
    masterAddr: env.MASTER_ADDR!.trim() || '127.0.0.1',
    masterPort: integer(env, 'MASTER_PORT', 1, 65535),
    rank,
    worldSize,
    localRank: env.LOCAL_RANK === undefined ? rank : integer(env, 'LOCAL_RANK', 0),
    timeoutMs: timeoutSeconds * 1000,
  };
}

/** A loopback TCP port nobody listens on right now: MASTER_PORT for a world started on this machine. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
