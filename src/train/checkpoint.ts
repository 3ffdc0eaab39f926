// Resumable training state: weights, optimizer buffers, RNG and the loop's position, written so
// that `--resume` continues bit-for-bit where training stopped.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * Writes the checkpoint into a fresh folder, then swaps it in by rename, so a crash mid-write leaves
 * the previous checkpoint intact.
 */
export function saveCheckpoint(dir: string, model: Module, optimizer: Optimizer, position: LoopPosition): void {
  const fresh = `${dir}.writing-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  mkdirSync(fresh, { recursive: true });
  model.save(join(fresh, 'weights.safetensors'));
  const { buffers, step, lr } = optimizer.stateDict();
  saveSafetensors(join(fresh, 'optimizer.safetensors'), buffers, { step: String(step), lr: String(lr) });
  const rng = getCpuRngState();
  saveSafetensors(join(fresh, 'rng.safetensors'), { cpu: rng });
  rng.dispose();
  writeJsonAtomic(join(fresh, 'position.json'), position);
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(fresh, dir);
  rmSync(old, { recursive: true, force: true });
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'position.json'));
}

/** Restores model, optimizer and RNG in place; returns where the loop stopped. */
export function loadCheckpoint(dir: string, model: Module, optimizer: Optimizer): LoopPosition {
  const position = readJson<LoopPosition>(join(dir, 'position.json'), 'the checkpoint is incomplete; start a new run instead of --resume');
  model.load(join(dir, 'weights.safetensors'));
  const saved = loadSafetensors(join(dir, 'optimizer.safetensors'));
  try {
    optimizer.loadStateDict({ buffers: saved.tensors, step: Number(saved.metadata.step), lr: Number(saved.metadata.lr) });
  } finally {
    for (const t of saved.tensors.values()) t.dispose();
  }
  const rng = loadSafetensors(join(dir, 'rng.safetensors')).tensors.get('cpu');
  if (!rng) throw new Error(`${join(dir, 'rng.safetensors')} has no "cpu" state`);
  setCpuRngState(rng);
  rng.dispose();
  return position;
}
