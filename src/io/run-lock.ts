// One writer per run folder. The lock is a file created whole and atomically (a hard link that
// fails when the name exists, on local filesystems) that names its owner; a second writer gets an error naming the owner, and the lock of a process
// that no longer exists (killed, crashed, machine rebooted) is taken over.
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { processExists } from './process-alive.js';

export const LOCK_FILE = '.lock';

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface RunLock {
  readonly path: string;
  release(): void;
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

/**
 * Creates the lock with its owner already in it, or returns false if a lock exists. The owner is
 * written to a private file first and then hard-linked to the lock's name (link fails if the name
 * exists, atomically): a lock opened empty and filled afterwards let a second writer read it in
 * between, take it for a damaged lock and remove it, so that both trained into one folder.
 */
function createExclusive(path: string, owner: LockOwner): boolean {
  const staged = `${path}.tmp-${process.pid}-staged`;
  const fd = openSync(staged, 'w', 0o644);
  try {
    writeSync(fd, JSON.stringify(owner));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(staged, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new Error(`could not create the lock ${path}: ${(err as Error).message}`);
  } finally {
    rmSync(staged, { force: true });
  }
}

/**
 * Takes the run folder's lock for `command` (e.g. "train"), or throws naming who holds it. A lock
 * left by a dead process on this host, or one too damaged to name an owner, is taken over.
 */
export function acquireRunLock(runDir: string, command: string): RunLock {
  const path = join(runDir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (createExclusive(path, me)) return lockHandle(path);
    const owner = readOwner(path);
    if (owner && owner.host !== me.host) {
      throw new Error(`${runDir} is in use by "aplnet ${owner.command}" (process ${owner.pid} on ${owner.host}, since ${owner.since}). Wait for it to finish, or, if that machine no longer runs it, delete ${path}.`);
    }
    if (owner && processExists(owner.pid)) {
      throw new Error(`${runDir} is in use by "aplnet ${owner.command}" (process ${owner.pid}, since ${owner.since}). Wait for it to finish or stop it; one process at a time may write a run folder.`);
    }
    // Stale: move it aside atomically. If what we moved is not the stale lock we examined (another
    // process took it over in between and holds it now), put it back and look again.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`could not take over the stale lock ${path}: ${(err as Error).message}`);
    }
    const moved = readOwner(aside);
    if (moved && owner && (moved.pid !== owner.pid || moved.since !== owner.since) && processExists(moved.pid)) renameSync(aside, path);
    else rmSync(aside, { force: true });
  }
  throw new Error(`could not lock ${runDir}: another process keeps taking the lock ${path}`);
}

function lockHandle(path: string): RunLock {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    const owner = readOwner(path);
    if (owner?.pid === process.pid) rmSync(path, { force: true });
  };
  process.on('exit', release);
  return { path, release };
}
