import type { Command } from 'commander';
import { explainImage } from '../../run/index.js';
import { loadRun } from '../../run/index.js';
import { int, num, threadCount } from '../parse-options.js';
import { selectDevice } from '../device.js';
import { formatTable } from '../format-table.js';

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('every explanation method (attention, Grad-CAM, Grad-CAM++) for one image as overlay and heatmap PNGs, with deletion and insertion curves against a random baseline')
    .argument('<run>', 'run folder made by "aplnet train"')
    .argument('<image>', 'one image file')
    .requiredOption('--out <dir>', 'folder for the PNGs, faithfulness.json and faithfulness.svg')
    .option('--target <class>', 'class to explain (default: the predicted one)')
    .option('--opacity <a>', 'overlay colour weight in [0, 1]', num('--opacity'), 0.45)
    .option('--steps <n>', 'steps of the deletion and insertion curves', int('--steps'), 20)
    .option('--device <device>', 'cpu, cuda, cuda:N or auto', 'cpu')
    .option('--threads <n>', 'CPU threads (default: all cores)', threadCount('--threads'))
    .action(async (runDir: string, image: string, o: Record<string, unknown>) => {
      const device = selectDevice(o.device as string, o.threads as number | undefined);
      const run = await loadRun(runDir, { device });
      try {
        const report = await explainImage(run, image, o.out as string, { targetClass: o.target as string | undefined, opacity: o.opacity as number, steps: o.steps as number });
        const call = `${report.predicted} (${(report.probabilities[report.predicted] * 100).toFixed(1)}%)${report.refer ? ', below the referral threshold: refer to a specialist' : ''}`;
        console.log(`${report.file}: predicted ${call}; explaining ${report.explainedClass}`);
        console.log(formatTable(['method', 'deletion AUC (lower better)', 'insertion AUC (higher better)'], Object.entries(report.faithfulness).map(([method, f]) => [method, f.deletion.auc.toFixed(3), f.insertion.auc.toFixed(3)])));
        console.log(`\n${report.files.length} files in ${o.out as string}`);
      } finally {
        run.model.dispose();
      }
    });
}
