// Resumable training state: weights, optimizer buffers, RNG and the loop's position, written so
// that `--resume` continues bit-for-bit where training stopped, and so that a kill at any instant
// leaves a checkpoint that recoverCheckpoint() can find.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { getCpuRngState, loadSafetensors, saveSafetensors, setCpuRngState, type Optimizer } from '../torch/index.js';
import type { Module } from '../nn/index.js';
import { readJson, writeJsonAtomic } from '../io/index.js';

export interface LoopPosition {
  epoch: number;
  /** Batches of `epoch` already trained. */
  batchInEpoch: number;
  globalStep: number;
  bestScore: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  finished: boolean;
}

const POSITION = 'position.json';
const EMA_WEIGHTS = 'ema.safetensors';
const WRITING = '.writing-';
const OLD = '.old-';

/** Makes renames inside `dir` durable: without it a power cut may undo a rename that returned. */
function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes the checkpoint into a fresh folder (position.json last, so a folder holding it is whole),
 * then swaps it in by two renames. A kill between them leaves both folders beside `dir`, and
 * recoverCheckpoint() picks the newest whole one.
 */
export function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer, position: LoopPosition, average: Module | null = null): void {
  const fresh = `${dir}${WRITING}${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  model.save(join(fresh, 'weights.safetensors'));
  // The weight average (--ema) is training state too: without it a resumed run would restart the average.
  if (average) average.save(join(fresh, EMA_WEIGHTS));
  const { buffers, step, lr } = optimizer.stateDict();
  saveSafetensors(join(fresh, 'optimizer.safetensors'), buffers, { step: String(step), lr: String(lr) });
  const rng = getCpuRngState();
  saveSafetensors(join(fresh, 'rng.safetensors'), { cpu: rng });
  rng.dispose();
  writeJsonAtomic(join(fresh, POSITION), position);
  fsyncDirectory(fresh);
  const old = `${dir}${OLD}${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(fresh, dir);
  fsyncDirectory(dirname(dir));
  rmSync(old, { recursive: true, force: true });
}

function stepOf(dir: string): number {
  if (!existsSync(join(dir, POSITION))) return -1;
  try {
    const position = readJson<LoopPosition>(join(dir, POSITION), 'checkpoint position');
    return Number.isFinite(position.globalStep) ? position.globalStep : -1;
  } catch {
    return -1;
  }
}

/**
 * Finishes a checkpoint swap that a kill interrupted and removes the leftovers of earlier writers
 * (half-written folders, temp files). Call with the run folder locked. Returns what it did.
 */
export function recoverCheckpoint(dir: string): string[] {
  const parent = dirname(dir);
  const name = basename(dir);
  if (!existsSync(parent)) return [];
  const leftovers = readdirSync(parent).filter((entry) => entry.startsWith(name + WRITING) || entry.startsWith(name + OLD)).map((entry) => join(parent, entry));
  const notes: string[] = [];
  const whole = [dir, ...leftovers].filter((candidate) => stepOf(candidate) >= 0).sort((a, b) => stepOf(b) - stepOf(a));
  const newest = whole[0];
  if (newest && newest !== dir) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(newest, dir);
    fsyncDirectory(parent);
    notes.push(`recovered the checkpoint of step ${stepOf(dir)} from ${basename(newest)} (a previous run was stopped while saving)`);
  }
  for (const leftover of leftovers) {
    if (leftover === newest || !existsSync(leftover)) continue;
    rmSync(leftover, { recursive: true, force: true });
    notes.push(`removed ${basename(leftover)}, left by a stopped writer`);
  }
  return notes;
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, POSITION));
}

/** Restores model, optimizer, RNG and the weight average (when the run keeps one) in place; returns where the loop stopped. */
export function loadCheckpoint(dir: string, model: Module, optimizer: Optimizer, average: Module | null = null): LoopPosition {
  const position = readJson<LoopPosition>(join(dir, POSITION), 'the checkpoint is incomplete; start a new run instead of --resume');
  model.load(join(dir, 'weights.safetensors'), { requireChecksum: true });
  if (average) {
    if (!existsSync(join(dir, EMA_WEIGHTS))) throw new Error(`${join(dir, EMA_WEIGHTS)} is missing: the run averages its weights (--ema) but the checkpoint holds no average; start a new run instead of --resume`);
    average.load(join(dir, EMA_WEIGHTS), { requireChecksum: true });
  }
  const saved = loadSafetensors(join(dir, 'optimizer.safetensors'), 'cpu', { requireChecksum: true });
  try {
    optimizer.loadStateDict({ buffers: saved.tensors, step: Number(saved.metadata.step), lr: Number(saved.metadata.lr) });
  } finally {
    for (const t of saved.tensors.values()) t.dispose();
  }
  const rng = loadSafetensors(join(dir, 'rng.safetensors'), 'cpu', { requireChecksum: true }).tensors.get('cpu');
  if (!rng) throw new Error(`${join(dir, 'rng.safetensors')} has no "cpu" state`);
  setCpuRngState(rng);
  rng.dispose();
  return position;
}
