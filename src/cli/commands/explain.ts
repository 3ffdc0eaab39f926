import type { Command } from 'commander';
import { imageExtensions, listImageFiles } from '../../data/index.js';
import { explainImages, loadRun, RAW_MAP_SCALE, unreadableInput } from '../../run/index.js';
import { int, num, threadCount, unitInterval } from '../parse-options.js';
import { selectDevice } from '../device.js';
import { formatTable } from '../format-table.js';
import { overlayStems } from './predict.js';

const fixed = (value: number | undefined): string => (value === undefined || !Number.isFinite(value) ? '' : value.toFixed(3));

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('every explanation method the model can produce, for one image, many files or folders: overlay, heatmap and raw 16-bit map PNGs, the cell mask, deletion and insertion curves against a random baseline, and explain.csv of the measures per image')
    .argument('<run>', 'run folder made by "aplnet train"')
    .argument('<images...>', 'image files and/or folders of images (searched recursively)')
    .requiredOption('--out <dir>', 'folder for the PNGs, <name>.faithfulness.json/.svg and explain.csv')
    .option('--target <class>', 'class to explain (default: the predicted one)')
    .option('--opacity <a>', 'overlay colour weight in [0, 1] (default: the drawing\'s)', unitInterval('--opacity'))
    .option('--steps <n>', 'steps of the deletion and insertion curves', int('--steps'), 20)
    .option('--threshold <p>', "refer to a specialist below this calibrated top probability (default: the run's)", num('--threshold'))
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .addHelpText('after', `\nRaw maps: ${RAW_MAP_SCALE}.\nexplain.csv: per image, for each method and the random baseline, cell_energy (share of the map on the cell mask), deletion_auc and insertion_auc; a final "mean" row.`)
    .action(async (runDir: string, inputs: string[], o: Record<string, unknown>) => {
      const opacity = o.opacity as number | undefined;
      const out = o.out as string;
      // One listing rule for train, predict and explain: links followed, FIFOs and the like named and skipped.
      const listed = await listImageFiles(inputs, { exclude: out });
      if (listed.files.length === 0 && listed.skipped.length === 0) throw new Error(`no images found in ${inputs.join(', ')} (looked for ${[...imageExtensions].join(' ')})`);
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const run = await loadRun(runDir, { device });
      try {
        const report = await explainImages(run, listed.files, out, {
          targetClass: o.target as string | undefined, opacity, steps: o.steps as number, threshold: o.threshold as number | undefined, stems: overlayStems(listed.files), skipped: listed.skipped.map(unreadableInput),
        });
        for (const { method, reason } of report.notApplicable) console.error(`${method}: not applicable to this model (${reason})`);
        for (const image of report.images) {
          const call = `${image.predicted} (${(image.probability * 100).toFixed(1)}%)${image.refer ? ', below the referral threshold: refer to a specialist' : ''}`;
          console.log(`${image.file}: predicted ${call}; explaining ${image.explainedClass}`);
        }
        const title = report.images.length === 1 ? 'measures' : `mean over ${report.images.length} images`;
        console.log(`\n${title}:`);
        console.log(formatTable(['method', 'cell energy (higher better)', 'deletion AUC (lower better)', 'insertion AUC (higher better)'],
          Object.entries(report.summary).map(([method, m]) => [method, fixed(m.cell_energy), fixed(m.deletion_auc), fixed(m.insertion_auc)])));
        console.log(`\n${report.images.reduce((n, image) => n + image.files.length, 1)} files in ${out}; measures per image in ${report.csv}`);
        for (const failure of report.failures) console.error(`aplnet: ${failure.message}`);
        if (report.failures.length > 0) {
          console.error(`${report.failures.length} of ${report.failures.length + report.images.length} images could not be explained`);
          process.exitCode = 1;
        }
      } finally {
        run.model.dispose();
      }
    });
}
