import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { imageExtensions } from '../../data/index.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { predictImages, type ImagePrediction, type PredictResult } from '../../run/index.js';
import { loadRun } from '../../run/index.js';
import { int, num } from '../parse-options.js';
import { selectDevice } from '../device.js';
import { formatTable } from '../format-table.js';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

/**
 * Folders become the images inside them (recursively, sorted); a file is taken as given, so a
 * misnamed or missing file is reported as a failed prediction rather than silently skipped.
 * Files in `exclude` (the overlay folder) are never read back as inputs.
 */
export function expandInputs(paths: string[], exclude?: string): string[] {
  const files: string[] = [];
  const excluded = exclude ? resolve(exclude) + sep : null;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.name.startsWith('.') || (excluded && (resolve(path) + sep).startsWith(excluded))) continue;
      if (entry.isDirectory()) walk(path);
      else if (imageExtensions.has(extname(entry.name).toLowerCase())) files.push(path);
    }
  };
  for (const path of paths) {
    if (existsSync(path) && statSync(path).isDirectory()) walk(path);
    else files.push(path);
  }
  return files;
}

/** A file-system-safe stem for an input's overlays, unique within this batch and never an input's name. */
export function overlayStems(files: string[]): string[] {
  const used = new Set<string>();
  return files.map((file) => {
    const stem = basename(file, extname(file)).replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '') || 'image';
    let unique = stem;
    for (let n = 2; used.has(unique); n++) unique = `${stem}-${n}`;
    used.add(unique);
    return unique;
  });
}

const csvCell = (value: string): string => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);

export function formatPredictions(results: PredictResult[], classNames: string[], format: Format): string {
  if (format === 'json') {
    return JSON.stringify(results.map((r) => {
      if (!r.ok) return r;
      const { overlays: _overlays, ...rest } = r;
      return rest;
    }), null, 2);
  }
  if (format === 'csv') {
    const header = ['file', 'predicted', 'confidence', 'refer', ...classNames.map((c) => `p_${c}`), 'error'];
    const rows = results.map((r) => r.ok
      ? [r.file, r.predicted, r.confidence.toFixed(4), String(r.refer), ...classNames.map((c) => r.probabilities[c].toFixed(4)), '']
      : [r.file, '', '', '', ...classNames.map(() => ''), r.error]);
    return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n');
  }
  const label = (r: ImagePrediction) => (r.refer ? `refer to a specialist (${r.predicted}?)` : r.predicted);
  const others = (r: ImagePrediction) => r.top.slice(1, 3).map((t) => `${t.className} ${(t.probability * 100).toFixed(1)}%`).join(', ');
  return formatTable(['file', 'prediction', 'probability', 'next'], results.map((r) => r.ok
    ? [r.file, label(r), `${(r.confidence * 100).toFixed(1)}%`, others(r)]
    : [r.file, `error: ${r.reason}`, '', '']));
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify images with a trained run: calibrated probabilities, "refer to a specialist" below a threshold, optional attention and Grad-CAM overlays')
    .argument('<run>', 'run folder made by "aplnet train"')
    .argument('<images...>', 'image files and/or folders of images')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--attention <dir>', 'write <name>.attention.png and <name>.gradcam.png overlays into this folder')
    .option('--opacity <a>', 'overlay colour weight in [0, 1]', num('--opacity'), 0.45)
    .option('--threshold <p>', "refer to a specialist below this calibrated top probability (default: the run's)", num('--threshold'))
    .option('--batch <n>', 'images per forward pass', int('--batch'), 32)
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', int('--threads'))
    .action(async (runDir: string, inputs: string[], o: Record<string, unknown>) => {
      const format = o.format as Format;
      if (!FORMATS.includes(format)) throw new Error(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
      const overlayDir = o.attention as string | undefined;
      const files = expandInputs(inputs, overlayDir);
      if (files.length === 0) throw new Error(`no images found in ${inputs.join(', ')} (looked for ${[...imageExtensions].join(' ')})`);
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const run = await loadRun(runDir, device);
      try {
        const results = await predictImages(run, files, {
          withOverlays: overlayDir ? ['attention', 'gradcam'] : [],
          opacity: o.opacity as number,
          threshold: o.threshold as number | undefined,
          batchSize: o.batch as number,
        });
        if (overlayDir) writeOverlays(overlayDir, results, new Set(files.map((f) => resolve(f))));
        console.log(formatPredictions(results, run.classNames, format));
        const failed = results.filter((r) => !r.ok);
        for (const failure of failed) console.error(`aplnet: ${failure.error}`);
        if (overlayDir) console.error(`overlays written to ${resolve(overlayDir)}`);
        if (failed.length > 0) {
          console.error(`${failed.length} of ${results.length} images could not be predicted`);
          process.exitCode = 1;
        }
      } finally {
        run.model.dispose();
      }
    });
}

function writeOverlays(dir: string, results: PredictResult[], inputs: Set<string>): void {
  mkdirSync(dir, { recursive: true });
  const stems = overlayStems(results.map((r) => r.file));
  results.forEach((result, i) => {
    if (!result.ok || !result.overlays) return;
    for (const [method, png] of Object.entries(result.overlays)) {
      let path = join(dir, `${stems[i]}.${method}.png`);
      // Never write over an image being predicted (e.g. overlays of overlays, predicted in place).
      for (let n = 2; inputs.has(resolve(path)); n++) path = join(dir, `${stems[i]}-${n}.${method}.png`);
      writeFileAtomic(path, png);
    }
  });
}
