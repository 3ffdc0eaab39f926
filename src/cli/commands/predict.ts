import { mkdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { imageExtensions } from '../../data/index.js';
import { DEFAULT_OPACITY, EXPLAIN_METHODS, defaultExplainMethods, type ExplainMethod } from '../../explain/index.js';
import { writeFileAtomic } from '../../io/index.js';
import { caseSummaryFormatOf, summarizeCases, DEFAULT_MAX_FLAGGED_SHARE, DEFAULT_MIN_USABLE_CELLS, loadRun, methodFileName, parseTtaMode, type TtaMode, panelPng, predictImagesInWorld, unreadableInput, type DrawOptions, type ImageFailure, type ImagePrediction, type PredictResult } from '../../run/index.js';
import { int, intIn, num, threadCount, unitInterval } from '../parse-options.js';
import { selectDevice } from '../device.js';
import { formatTable } from '../format-table.js';
import { listPredictInputs, reportCases } from '../predict-cases.js';
import { launchInferenceRanks } from '../launch-ranks.js';

const FORMATS = ['table', 'json', 'csv'] as const;
type Format = (typeof FORMATS)[number];

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

/** What a prediction says, without the pixels and maps (those go to PNG files). */
function publicFields(result: PredictResult): Record<string, unknown> {
  if (!result.ok) return result as unknown as Record<string, unknown>;
  const { pixels: _pixels, maps: _maps, side: _side, ...rest } = result;
  return rest;
}

/** The out-of-distribution score, its threshold and the flag, as CSV cells. */
const oodCells = (r: ImagePrediction): string[] => (r.ood ? [r.ood.score.toFixed(4), r.ood.threshold.toFixed(4), String(r.ood.flagged)] : ['', '', '']);

export function formatPredictions(results: PredictResult[], classNames: string[], format: Format): string {
  if (format === 'json') return JSON.stringify(results.map(publicFields), null, 2);
  if (format === 'csv') {
    const header = ['file', 'predicted', 'confidence', 'refer', 'refer_reason', 'ood_score', 'ood_threshold', 'ood_flagged', ...classNames.map((c) => `p_${c}`), 'error_reason', 'error'];
    const rows = results.map((r) => r.ok
      ? [r.file, r.predicted, r.confidence.toFixed(4), String(r.refer), r.referReason ?? '', ...oodCells(r), ...classNames.map((c) => r.probabilities[c].toFixed(4)), '', '']
      : [r.file, '', '', '', '', '', '', '', ...classNames.map(() => ''), r.reason, r.message]);
    return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n');
  }
  const label = (r: ImagePrediction) => (r.ood?.flagged ? `set aside: not like the training images (${r.predicted}?)` : r.refer ? `refer to a specialist (${r.predicted}?)` : r.predicted);
  const others = (r: ImagePrediction) => Object.entries(r.probabilities).sort((a, b) => b[1] - a[1]).slice(1, 3).map(([name, p]) => `${name} ${(p * 100).toFixed(1)}%`).join(', ');
  const ood = (r: ImagePrediction) => (r.ood ? `${r.ood.score.toFixed(2)}${r.ood.flagged ? ` > ${r.ood.threshold.toFixed(2)}` : ''}` : '');
  return formatTable(['file', 'prediction', 'probability', 'next', 'OOD score'], results.map((r) => r.ok
    ? [r.file, label(r), `${(r.confidence * 100).toFixed(1)}%`, others(r), ood(r)]
    : [r.file, `error: ${r.reason}`, '', '', '']));
}

function parseMethods(value: string): ExplainMethod[] {
  const methods = value.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = methods.filter((m) => !EXPLAIN_METHODS.includes(m as ExplainMethod));
  if (methods.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`--maps takes a comma-separated list of ${EXPLAIN_METHODS.join(', ')}; got "${value}"`);
  return methods as ExplainMethod[];
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('classify images with a trained run: calibrated probabilities, "refer to a specialist" below a threshold, optional explanation overlays')
    .argument('<run>', 'run folder made by "aplnet train"')
    .argument('<images...>', 'image files and/or folders of images, or one CSV manifest (path,patient_id[,label][,split]) whose patient ids make the cases')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--overlays <dir>', 'write <name>.<method>.png into this folder: the image, its map overlaid, and the colour scale')
    .option('--maps <methods>', `explanation maps to draw with --overlays: ${EXPLAIN_METHODS.join(', ')} (default: the model's own map — evidence on attention-pool presets, else attention-grad — and gradcam)`, parseMethods)
    .option('--opacity <a>', 'weight in [0, 1] of the overlay colour where the map is highest; low values stay clear', unitInterval('--opacity'), DEFAULT_OPACITY)
    .option('--contour <q>', 'outline the map at its quantile q in [0, 1] (0.9 encloses the top 10%)', unitInterval('--contour'))
    .option('--threshold <p>', "refer to a specialist below this calibrated top probability (default: the run's)", num('--threshold'))
    .option('--batch <n>', 'images per forward pass', int('--batch'), 32)
    .option('--tta <on|off>', "test-time augmentation: the mean over the 8 flips and quarter turns (default: the mode the run's temperature was fitted for)", (v: string) => parseTtaMode(v))
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .option('--case <id>', 'the images given are one case (one patient): print its case summary after the images')
    .option('--split <name>', "with a manifest: only its rows of this split (train, val or test)")
    .option('--case-out <file>', 'write the case summaries to this .json (everything, cells ranked) or .csv (one row per case) file')
    .option('--max-flagged-share <share>', `refer a case when more than this share of its usable cells is flagged for review (default ${DEFAULT_MAX_FLAGGED_SHARE})`, unitInterval('--max-flagged-share'))
    .option('--min-cells <n>', `a case call needs at least this many usable cells (default ${DEFAULT_MIN_USABLE_CELLS})`, intIn('--min-cells', 1, 1_000_000))
    .option('--nproc <n>', 'start n local processes that share the images out (torchrun\'s environment); one output, in input order', intIn('--nproc', 1, 256))
    .action(async (runDir: string, inputs: string[], o: Record<string, unknown>) => {
      const launched = await launchInferenceRanks(o);
      if (launched !== null) {
        process.exitCode = launched;
        return;
      }
      const format = o.format as Format;
      if (!FORMATS.includes(format)) throw new Error(`--format must be one of ${FORMATS.join(', ')}, got "${format}"`);
      const drawing: DrawOptions = { opacity: o.opacity as number, contourQuantile: o.contour as number | undefined };
      const overlayDir = o.overlays as string | undefined;
      if (o.maps && !overlayDir) throw new Error('--maps chooses the overlays to draw; give --overlays <dir> too');
      if (o.contour !== undefined && !overlayDir) throw new Error('--contour outlines the overlays; give --overlays <dir> too');
      // One listing rule for train and predict: links followed, FIFOs and the like named and skipped.
      const listed = await listPredictInputs(inputs, { caseId: o.case as string | undefined, split: o.split as string | undefined, exclude: overlayDir });
      if (o.caseOut && !listed.caseIds) throw new Error('--case-out writes case summaries; give --case <id> or a manifest with patient_id');
      if (o.caseOut) caseSummaryFormatOf(o.caseOut as string);
      const files = listed.files;
      if (files.length === 0 && listed.skipped.length === 0) throw new Error(`no images found in ${inputs.join(', ')} (looked for ${[...imageExtensions].join(' ')})`);
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const run = await loadRun(runDir, { device });
      try {
        const methods = overlayDir ? ((o.maps as ExplainMethod[] | undefined) ?? defaultExplainMethods(run.model)) : [];
        // In a world (--nproc, torchrun) the ranks share the images out; rank 0 gets every result, the others are done.
        const predicted = await predictImagesInWorld(run, files, { maps: methods, threshold: o.threshold as number | undefined, batchSize: o.batch as number, tta: o.tta as TtaMode | undefined, embeddings: Boolean(run.caseLevel?.model) });
        if (!predicted) return;
        const results = [...predicted, ...listed.skipped.map(unreadableInput)];
        if (overlayDir) await writeOverlays(overlayDir, results, methods, drawing, new Set(files.map((f) => resolve(f))));
        console.log(formatPredictions(results, run.classNames, format));
        if (listed.caseIds) {
          const summaries = summarizeCases(run, results, listed.caseIds, { threshold: o.threshold as number | undefined, maxFlaggedShare: o.maxFlaggedShare as number | undefined, minUsableCells: o.minCells as number | undefined });
          reportCases(run, summaries, { tableOnStdout: format === 'table', caseOut: o.caseOut as string | undefined });
        }
        const failed = results.filter((r): r is ImageFailure => !r.ok);
        for (const failure of failed) console.error(`aplnet: ${failure.message}`);
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

async function writeOverlays(dir: string, results: PredictResult[], methods: ExplainMethod[], drawing: DrawOptions, inputs: Set<string>): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const stems = overlayStems(results.map((r) => r.file));
  for (const [i, result] of results.entries()) {
    if (!result.ok) continue;
    for (const method of methods) {
      const name = methodFileName(method);
      let path = join(dir, `${stems[i]}.${name}.png`);
      // Never write over an image being predicted (e.g. overlays of overlays, predicted in place).
      for (let n = 2; inputs.has(resolve(path)); n++) path = join(dir, `${stems[i]}-${n}.${name}.png`);
      writeFileAtomic(path, await panelPng(result, method, drawing));
    }
  }
}
