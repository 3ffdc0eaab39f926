// `node dist/bench/serve-case.js`: a case of 200 cells through the review page's API as the page
// sends it (batches of --max-files, one at a time, the model's own map), timed to the case summary;
// then the summary recomputed alone for the whole case, as after each batch (issue 12's target: the
// case call for 200 cells on the web page in under 10 s on 2 cores). Prints one JSON object last.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createServer } from '../src/serve/server.js';
import { multipart } from '../test/serve-multipart.js';

export interface ServeCaseBenchOptions {
  run: string;
  /** A CSV manifest with a path column (relative to the manifest); its first `cells` rows are sent. */
  manifest: string;
  cells?: number;
  threads?: number;
  maxFiles?: number;
  /** Maps asked for with each batch: the page's default is the model's own map only. */
  overlays?: string;
}

export interface ServeCaseBenchResult {
  cells: number;
  batches: number;
  overlays: string;
  /** From the first batch sent to the last batch's answer, which carries the case summary. */
  case_s: number;
  /** CPU time of this process (server, workers, decoding) for those batches: what the case costs, whatever else runs. */
  case_cpu_s: number;
  /** The slowest batch, upload to answer. */
  slowest_batch_s: number;
  /** Recomputing the summary of the whole case and answering with the case (median of 20), and reading it back with the summary cached. */
  summary_ms: number;
  view_ms: number;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function benchServeCase(options: ServeCaseBenchOptions): Promise<ServeCaseBenchResult> {
  const { cells = 200, threads = 2, maxFiles = 32 } = options;
  const root = new URL('.', `file://${options.manifest}`);
  const rows = (await readFile(options.manifest, 'utf8')).trim().split('\n').slice(1).map((line) => line.split(',')[0]).slice(0, cells);
  const images = await Promise.all(rows.map(async (path) => ({ filename: path.split('/').pop()!, type: 'image/jpeg', data: await readFile(new URL(path, root)) })));
  const server = await createServer({ runDir: options.run, threads, maxFiles, log: () => {} });
  try {
    const overlays = options.overlays ?? server.info.defaultMaps[0];
    const post = (parts: typeof images) => server.app.inject({ method: 'POST', url: `/api/cases/BENCH-1/cells?overlays=${overlays}`, ...multipart(parts) });
    // Warm-up on another case: the first forward pass and allocator growth are not what a lab waits for.
    await server.app.inject({ method: 'POST', url: `/api/cases/WARM-UP/cells?overlays=${overlays}`, ...multipart(images.slice(0, 4)) });
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    let slowest = 0;
    let batches = 0;
    for (let i = 0; i < images.length; i += maxFiles) {
      const t = performance.now();
      const answer = await post(images.slice(i, i + maxFiles));
      if (answer.statusCode !== 200) throw new Error(`batch ${batches}: ${answer.statusCode} ${answer.body.slice(0, 300)}`);
      slowest = Math.max(slowest, performance.now() - t);
      batches += 1;
    }
    const caseSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const view = (await server.app.inject('/api/cases/BENCH-1')).json() as { summary: { cells: number } };
    if (view.summary.cells !== images.length) throw new Error(`the case holds ${view.summary.cells} cells, not ${images.length}`);
    // A rename changes the case's revision, so its answer recomputes the summary of all its cells.
    const summaryTimes: number[] = [];
    const viewTimes: number[] = [];
    for (let k = 0; k < 20; k++) {
      const [from, to] = k % 2 === 0 ? ['BENCH-1', 'BENCH-2'] : ['BENCH-2', 'BENCH-1'];
      let t = performance.now();
      const renamed = await server.app.inject({ method: 'PATCH', url: `/api/cases/${from}`, payload: { caseId: to } });
      if (renamed.statusCode !== 200) throw new Error(`rename: ${renamed.statusCode} ${renamed.body.slice(0, 300)}`);
      summaryTimes.push(performance.now() - t);
      t = performance.now();
      await server.app.inject(`/api/cases/${to}`);
      viewTimes.push(performance.now() - t);
    }
    return {
      cells: images.length, batches, overlays,
      case_s: Number(caseSeconds.toFixed(2)), case_cpu_s: Number(((cpu.user + cpu.system) / 1e6).toFixed(2)), slowest_batch_s: Number((slowest / 1000).toFixed(2)),
      summary_ms: Number(median(summaryTimes).toFixed(1)), view_ms: Number(median(viewTimes).toFixed(1)),
    };
  } finally {
    await server.close();
  }
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
  const result = await benchServeCase({
    run: arg('run') ?? '/tmp/runs/pbc-ap',
    manifest: arg('manifest') ?? fileURLToPath(new URL('../../../shared/data/pbc-cases/manifest.csv', import.meta.url)),
    cells: arg('cells') ? Number(arg('cells')) : undefined,
    threads: arg('threads') ? Number(arg('threads')) : undefined,
    overlays: arg('overlays'),
  });
  console.log(JSON.stringify(result));
}
