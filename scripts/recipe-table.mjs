#!/usr/bin/env node
// Regenerates the rows of docs/accuracy-results.md from run folders: for each run, the recipe (the
// training options that differ from today's defaults), the validation figures at the epoch the run
// itself chose (best validation macro-F1, as model.safetensors), the trained weights' own figures
// beside the average's when --ema was on, the minutes the epochs took and the load beside them.
//
//   node scripts/recipe-table.mjs /tmp/runs/screen-* /tmp/runs/pbc-ap …
//
// Side files the screening runner leaves beside a run folder RUN (all optional): RUN.start and
// RUN.end (epoch seconds), RUN.load (lines of /proc/loadavg, one a minute). A test figure is read
// from RUN.test.json (`aplnet evaluate RUN-copy --out …`'s metrics.json), only for finished recipes.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

const { TRAINING_DEFAULTS } = await import(new URL('../dist/src/train/training-config.js', import.meta.url).href);

/** Options that describe where and how a run ran, not what was trained. */
const NOT_RECIPE = new Set(['data', 'device', 'threads', 'workers', 'cacheDir', 'fold', 'folds', 'onBadImage']);

function recipeOf(training) {
  const parts = [];
  for (const [key, value] of Object.entries(training)) {
    if (NOT_RECIPE.has(key)) continue;
    if (JSON.stringify(value) !== JSON.stringify(TRAINING_DEFAULTS[key])) parts.push(`${key} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
  }
  return parts.length ? parts.join(', ') : 'defaults';
}

const pct = (v) => (Number.isFinite(v) ? (100 * v).toFixed(1) : '—');
const f1 = (v) => (Number.isFinite(v) ? v.toFixed(4) : '—');

export function summarizeRun(dir) {
  const config = JSON.parse(readFileSync(`${dir}/config.json`, 'utf8'));
  const rows = existsSync(`${dir}/metrics.jsonl`) ? readFileSync(`${dir}/metrics.jsonl`, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  // The checkpointing callback keeps the first epoch with the highest validation macro-F1.
  let best = null;
  for (const row of rows) if (!best || row.val_macro_f1 > best.val_macro_f1) best = row;
  let bestLive = null;
  for (const row of rows) if (Number.isFinite(row.val_macro_f1_live) && (!bestLive || row.val_macro_f1_live > bestLive.val_macro_f1_live)) bestLive = row;
  const epochSeconds = rows.reduce((sum, r) => sum + r.seconds, 0);
  const side = (ext) => (existsSync(`${dir}.${ext}`) ? readFileSync(`${dir}.${ext}`, 'utf8').trim() : null);
  const start = Number(side('start'));
  const end = Number(side('end'));
  const loads = (side('load') ?? '').split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
  const test = existsSync(`${dir}.test.json`) ? JSON.parse(readFileSync(`${dir}.test.json`, 'utf8')) : null;
  return {
    name: basename(dir),
    recipe: `${config.model.name}${config.model.inputSize !== 144 ? ` @${config.model.inputSize}px` : ''}; ${recipeOf(config.training)}`,
    seed: config.training.seed,
    epochs: `${rows.length}/${config.training.epochs}`,
    bestEpoch: best?.epoch,
    valAcc: best?.val_acc,
    valF1: best?.val_macro_f1,
    liveEpoch: bestLive?.epoch,
    liveAcc: bestLive?.val_acc_live,
    liveF1: bestLive?.val_macro_f1_live,
    minutes: epochSeconds / 60,
    wallMinutes: start && end ? (end - start) / 60 : null,
    meanLoad: loads.length ? loads.reduce((a, b) => a + b, 0) / loads.length : null,
    imgPerSecond: rows.length ? rows.reduce((s, r) => s + r.img_s, 0) / rows.length : null,
    testAcc: test?.accuracy ?? test?.calibrated?.accuracy ?? null,
  };
}

export function markdownRow(s) {
  const live = Number.isFinite(s.liveF1) ? `${pct(s.liveAcc)} / ${f1(s.liveF1)} (ep ${s.liveEpoch})` : '—';
  const load = s.meanLoad !== null ? `load ${s.meanLoad.toFixed(1)}` : 'load not sampled';
  return `| ${s.name} | ${s.recipe} | ${s.seed} | ${s.epochs} | ${pct(s.valAcc)} / ${f1(s.valF1)} (ep ${s.bestEpoch}) | ${live} | ${s.testAcc !== null ? pct(s.testAcc) : 'not touched'} | ${s.minutes.toFixed(1)} (${s.imgPerSecond?.toFixed(0)} img/s, ${load}) |`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dirs = process.argv.slice(2).filter((d) => existsSync(`${d}/config.json`));
  if (dirs.length === 0) {
    console.error('usage: node scripts/recipe-table.mjs RUN_DIR … (folders with config.json and metrics.jsonl)');
    process.exit(1);
  }
  console.log('| run | recipe | seed | epochs run | val acc % / macro-F1 (best epoch) | trained weights without the average: val acc % / macro-F1 | test acc % | epoch minutes (mean img/s, mean load) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const dir of dirs) console.log(markdownRow(summarizeRun(dir)));
}
