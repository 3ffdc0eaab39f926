// `npm run bench -- ood [--run DIR] [--compare 1]`: the out-of-distribution check of issue 12.
import { compareOodScores } from './ood-compare.js';

export async function benchOod(options: Record<string, string | number>): Promise<Record<string, unknown>> {
  const common = { run: options.run as string | undefined, data: options.data as string | undefined, threads: options.threads as number | undefined };
  if (options.compare) return compareOodScores({ ...common, share: options.share as number | undefined, cells: options.cells as number | undefined });
  throw new Error('only --compare 1 so far');
}
