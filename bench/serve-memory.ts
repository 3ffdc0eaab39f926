// `node dist/bench/serve-memory.js`: what one large upload costs the server in memory. The server is
// `aplnet serve` in its own process (its workers are threads of it, so /proc's VmHWM — the peak
// resident set — covers them); this process streams one multipart request of FILES files of MB
// megabytes each (a real smear JPEG padded with zeros), so neither side's figure includes the other.
// Env: RUN (a run folder; default: a tiny one is trained), FILES (32), MB (24).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { realImages } from '../test/data-fixtures.js';
import { cliPath, trainTinyRun } from '../test/serve-fixtures.js';

const kib = (line: string | undefined): number => Number(line?.match(/(\d+) kB/)?.[1] ?? NaN);

/** Current and peak resident set of a process, in MB. */
export function residentMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n');
  const field = (name: string) => Math.round(kib(status.find((l) => l.startsWith(`${name}:`))) / 1024);
  return { rss: field('VmRSS'), peak: field('VmHWM') };
}

function startServer(runDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [cliPath, 'serve', runDir, '--port', '0', '--threads', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = out.match(/at (http:\/\/\S+?)\/?\s/)?.[1];
      if (url) resolve({ child, url });
    });
    child.once('exit', (code) => reject(new Error(`aplnet serve exited (${code}) before listening: ${out}`)));
  });
}

/** Streams the body, so this process never holds the whole request; resolves with the response. */
function postLarge(url: string, image: Buffer, files: number, bytesPerFile: number): Promise<{ status: number; body: string }> {
  const boundary = 'aplnetbenchboundary';
  const head = (i: number) => Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="image"; filename="${i}.jpg"\r\ncontent-type: image/jpeg\r\n\r\n`);
  const tail = Buffer.from(`--${boundary}--\r\n`);
  const padding = bytesPerFile - image.length;
  const length = Array.from({ length: files }, (_, i) => head(i).length + bytesPerFile + 2).reduce((a, b) => a + b, 0) + tail.length;
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/predict?overlays=none`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': length } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const zeros = Buffer.alloc(1 << 20);
    void (async () => {
      const write = (chunk: Buffer) => (req.write(chunk) ? Promise.resolve() : new Promise<void>((r) => req.once('drain', r)));
      try {
        for (let i = 0; i < files; i++) {
          await write(head(i));
          await write(image);
          for (let left = padding; left > 0; left -= zeros.length) await write(zeros.subarray(0, Math.min(left, zeros.length)));
          await write(Buffer.from('\r\n'));
        }
        req.end(tail);
      } catch (error) {
        reject(error as Error);
      }
    })();
  });
}

const files = Number(process.env.FILES ?? 32);
const mb = Number(process.env.MB ?? 24);
const tiny = process.env.RUN ? null : await trainTinyRun();
const { child, url } = await startServer(process.env.RUN ?? tiny!.runDir);
try {
  const image = readFileSync((await realImages('neutrophil', 1))[0]);
  await new Promise((r) => setTimeout(r, 500));
  const before = residentMb(child.pid!);
  const started = performance.now();
  const response = await postLarge(url, image, files, mb * 1_000_000);
  const after = residentMb(child.pid!);
  console.log(JSON.stringify({
    request: `${files} x ${mb} MB`,
    status: response.status,
    answer: response.body.slice(0, 200),
    seconds: Math.round(performance.now() - started) / 1000,
    rss_before_mb: before.rss,
    peak_rss_before_mb: before.peak,
    rss_after_mb: after.rss,
    peak_rss_after_mb: after.peak,
  }));
} finally {
  child.kill('SIGTERM');
  await tiny?.cleanup();
}
