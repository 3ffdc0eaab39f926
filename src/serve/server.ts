// The local web app: a page for hematologists and the JSON API behind it. Uploads stay in memory,
// inference runs in worker threads, and the log carries counts and timings only — never a file
// name, an URL with one, or a result.
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPath } from '../run/index.js';
import { summarizeCase } from './case-summary.js';
import { ServeError, statusOfImageReason, type FileProblem } from './errors.js';
import { InferencePool, QueueFullError } from './inference-pool.js';
import { readModelInfo, type ModelInfo } from './model-info.js';
import { openApiDocument } from './openapi.js';
import { OVERLAY_METHODS, type ImagePrediction, type OverlayMethod } from './protocol.js';
import { readUploads, type UploadLimits } from './upload.js';

export interface ServeOptions {
  runDir: string;
  device?: string;
  /** Inference workers; each holds its own copy of the model. */
  workers?: number;
  /** CPU threads per worker for libtorch. */
  threads?: number;
  /** Requests waiting for a worker before new ones get 503. */
  maxQueue?: number;
  maxFiles?: number;
  maxFileBytes?: number;
  maxInputPixels?: number;
  /** Where counts and timings go; nothing about the images. Default: stderr. */
  log?: (line: string) => void;
}

export const serveDefaults = { device: 'cpu', workers: 1, maxQueue: 16, maxFiles: 32, maxFileBytes: 25_000_000, maxInputPixels: 40_000_000 };

// From dist/src/serve/ (compiled) back to the source tree, where the page lives unbuilt.
const publicDir = new URL('../../../src/serve/public/', import.meta.url);

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

const PAGE_SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function loadPublicFiles(): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(publicDir)) {
    const type = contentTypes[extname(name)];
    if (type) files.set(name, { body: readFileSync(new URL(name, publicDir)), type });
  }
  if (!files.has('index.html')) throw new Error(`${fileURLToPath(publicDir)}index.html is missing: is the source tree next to dist/?`);
  return files;
}

const dataUrl = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;

function parseOverlays(query: unknown): OverlayMethod[] {
  const raw = (query as { overlays?: string }).overlays;
  if (raw === undefined) return [...OVERLAY_METHODS];
  const asked = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (asked.length === 1 && asked[0] === 'none') return [];
  const unknown = asked.filter((m) => !OVERLAY_METHODS.includes(m as OverlayMethod));
  if (unknown.length) throw new ServeError(400, 'bad-overlays', `unknown overlay method(s) ${unknown.join(', ')}; use ${OVERLAY_METHODS.join(', ')} or none`);
  return asked as OverlayMethod[];
}

export interface Server {
  app: FastifyInstance;
  info: ModelInfo;
  pool: InferencePool;
  close(): Promise<void>;
}

export async function createServer(options: ServeOptions): Promise<Server> {
  const o = { ...serveDefaults, ...options };
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const info = readModelInfo(o.runDir);
  const files = loadPublicFiles();
  const limits: UploadLimits = { maxFiles: o.maxFiles, maxFileBytes: o.maxFileBytes };
  const pool = await InferencePool.start({ runDir: o.runDir, device: o.device, workers: o.workers, threads: o.threads, maxQueue: o.maxQueue, maxInputPixels: o.maxInputPixels });

  const app = Fastify({ logger: false, bodyLimit: o.maxFiles * o.maxFileBytes + 1_000_000 });
  // Busboy options: keep the name as sent (busboy would strip paths silently) and decode it as UTF-8, so odd names are seen and judged.
  const busboyOptions = { preservePath: true, defParamCharset: 'utf8' };
  await app.register(multipart, {
    limits: { files: o.maxFiles, fileSize: o.maxFileBytes, fields: 8, parts: o.maxFiles + 8, fieldSize: 1000 },
    ...busboyOptions,
  });

  app.setErrorHandler((error: unknown, _request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ServeError) return reply.code(error.status).send(error.toJSON());
    const e = error as { statusCode?: number; code?: string; message?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    if (status === 500) log(`serve: internal error: ${e.message ?? String(error)}`);
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send(new ServeError(415, 'not-multipart', 'send images as multipart/form-data, one "image" part per file').toJSON());
    }
    const message = status === 500 ? 'internal error; the server log has details' : (e.message ?? 'bad request');
    return reply.code(status).send({ error: { code: e.code ?? 'bad-request', message } });
  });
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ error: { code: 'not-found', message: 'no such page or API route; see /api/openapi.json' } }));

  const sendPublic = (name: string) => (_request: FastifyRequest, reply: FastifyReply) => {
    const file = files.get(name)!;
    return reply.headers(PAGE_SECURITY_HEADERS).type(file.type).send(file.body);
  };
  app.get('/', sendPublic('index.html'));
  for (const name of files.keys()) if (name !== 'index.html') app.get(`/${name}`, sendPublic(name));

  app.get('/api/model', async () => info);
  app.get('/api/openapi.json', async () => openApiDocument(info, limits));
  app.get('/report', async (_request, reply) => {
    if (!info.hasReport) throw new ServeError(404, 'no-report', 'this run has no report.html');
    return reply.header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(readFileSync(runPath(o.runDir, 'report')));
  });
  app.get('/api/health', async () => ({ ok: true, busy: pool.busy, queued: pool.pending }));

  app.post('/api/predict', async (request, reply) => {
    const started = performance.now();
    const overlays = parseOverlays(request.query);
    const uploads = await readUploads(request, limits);
    let outcomes;
    try {
      outcomes = await pool.predict(uploads.map((u) => u.bytes), overlays);
    } catch (error) {
      if (error instanceof QueueFullError) {
        log(`serve: predict refused (queue full), ${uploads.length} image(s)`);
        return reply.code(503).header('retry-after', '2').send(new ServeError(503, 'busy', error.message).toJSON());
      }
      throw error;
    }
    const problems: FileProblem[] = [];
    outcomes.forEach((outcome, index) => {
      if (!outcome.ok) problems.push({ index, name: uploads[index].name, reason: outcome.reason, message: outcome.message });
    });
    if (problems.length) {
      log(`serve: predict refused, ${uploads.length} image(s), ${problems.length} unusable, ${Math.round(performance.now() - started)} ms`);
      const first = problems[0];
      const summary = problems.length === 1 ? `"${first.name}": ${first.message}` : `${problems.length} of ${uploads.length} files cannot be used (first, "${first.name}": ${first.message})`;
      throw new ServeError(statusOfImageReason(first.reason), first.reason, summary, problems);
    }
    const predictions = outcomes as ImagePrediction[];
    const byClass = (p: number[]): Record<string, number> => Object.fromEntries(info.classes.map((c, i) => [c, p[i]]));
    const summary = summarizeCase(predictions.map((p) => p.probabilities), info.calibration.referralThreshold);
    const elapsed = Math.round(performance.now() - started);
    log(`serve: predict ${uploads.length} image(s), ${overlays.length} overlay method(s), ${elapsed} ms`);
    return {
      model: info.name,
      classes: info.classes,
      referralThreshold: info.calibration.referralThreshold,
      images: predictions.map((p, index) => ({
        index,
        name: uploads[index].name,
        predicted: info.classes[p.predicted],
        probability: p.probabilities[p.predicted],
        probabilities: byClass(p.probabilities),
        refer: p.refer,
        notes: p.notes,
        input: dataUrl(p.inputPng),
        heatmaps: Object.fromEntries(Object.entries(p.heatmaps).map(([method, png]) => [method, dataUrl(png)])),
      })),
      case: {
        images: summary.images,
        predicted: info.classes[summary.predicted],
        probability: summary.probabilities[summary.predicted],
        probabilities: byClass(summary.probabilities),
        refer: summary.refer,
        ranking: summary.ranking,
      },
      elapsedMs: elapsed,
    };
  });

  return {
    app,
    info,
    pool,
    async close() {
      await app.close();
      await pool.close();
    },
  };
}
