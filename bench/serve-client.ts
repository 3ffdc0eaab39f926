// The load generator for bench/serve.ts, run as its own process so that it never competes with the
// server's event loop: autocannon posting real smear images (one per request, cycling through them).
// argv[2]: JSON { url, images: string[], connections, seconds, overlays }. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { multipart } from '../test/serve-multipart.js';

interface ClientOptions {
  url: string;
  images: string[];
  connections: number;
  seconds: number;
  overlays: string;
}

interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const options = JSON.parse(process.argv[2]) as ClientOptions;
const autocannon = (await import('autocannon' as string)).default as Autocannon;
const requests = options.images.map((path) => {
  const { payload, headers } = multipart([{ filename: basename(path), type: 'image/jpeg', data: readFileSync(path) }]);
  return { method: 'POST', path: `/api/predict?overlays=${options.overlays}`, headers, body: payload };
});
const result = await autocannon({ url: options.url, connections: options.connections, duration: options.seconds, requests, timeout: 30 });
console.log(JSON.stringify({
  requests_s: result.requests.average,
  p50_ms: result.latency.p50,
  p99_ms: result.latency.p99,
  ok: result['2xx'],
  errors: result.errors + result.timeouts + result.non2xx,
}));
