// `npm run bench -- serve`: the local web app under load. The server runs here (so its RSS, workers
// included, is what we sample); autocannon drives it from a second process with concurrent clients
// posting real smear images. Target (issue 6): zero errors, p99 < 500 ms at 4 clients on 2 cores.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createServer } from '../src/serve/server.js';
import { realImages } from '../test/data-fixtures.js';
import { trainTinyRun } from '../test/serve-fixtures.js';

export interface ServeBenchOptions {
  /** A trained aplnet-s run folder; without one a tiny run is trained first. */
  run?: string;
  seconds?: number;
  connections?: number;
  threads?: number;
  workers?: number;
  /** Overlays asked for with each request: attention,gradcam (the page's default), attention, or none. */
  overlays?: string;
}

export interface ServeBenchResult {
  requests_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  peak_rss_mb: number;
  /** RSS after warm-up and at the end, to see whether memory stays flat. */
  start_rss_mb: number;
  end_rss_mb: number;
}

const clientPath = fileURLToPath(new URL('./serve-client.js', import.meta.url));
const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

export async function benchServe(options: ServeBenchOptions = {}): Promise<ServeBenchResult> {
  const { seconds = 30, connections = 4, threads = 2, workers = 1, overlays = 'attention,gradcam' } = options;
  const tiny = options.run ? null : await trainTinyRun();
  const runDir = options.run ?? tiny!.runDir;
  const server = await createServer({ runDir, threads, workers, log: () => {} });
  try {
    const url = await server.listen(0);
    const images = (await Promise.all(['neutrophil', 'monocyte', 'eosinophil', 'basophil'].map((c) => realImages(c, 4)))).flat();
    // Warm-up, so the first forward pass and allocator growth are not measured.
    await promisify(execFile)(process.execPath, [clientPath, JSON.stringify({ url, images, connections, seconds: 2, overlays })]);
    const startRss = process.memoryUsage().rss;
    let peakRss = startRss;
    const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
    const { stdout } = await promisify(execFile)(process.execPath, [clientPath, JSON.stringify({ url, images, connections, seconds, overlays })], { timeout: (seconds + 60) * 1000 });
    clearInterval(sampler);
    const load = JSON.parse(stdout.trim().split('\n').pop()!) as { requests_s: number; p50_ms: number; p99_ms: number; errors: number };
    return { ...load, peak_rss_mb: mb(peakRss), start_rss_mb: mb(startRss), end_rss_mb: mb(process.memoryUsage().rss) };
  } finally {
    await server.close();
    await tiny?.cleanup();
  }
}

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  const seconds = Number(process.env.SECONDS_ ?? 10);
  console.log(JSON.stringify(await benchServe({ seconds, run: process.env.RUN, overlays: process.env.OVERLAYS })));
}
