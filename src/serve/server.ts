// The local web app: a page for hematologists and the JSON API behind it. Uploads stay in memory,
// inference runs in worker threads, and the log carries counts and timings only — never a file
// name, an URL with one, or a result.
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import { readFileSync, readdirSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MAX_FLAGGED_SHARE } from '../run/index.js';
import { Admission } from './admission.js';
import { registerCaseRoutes } from './case-routes.js';
import { CaseStore } from './case-store.js';
import { installErrorHandlers, ServeError } from './errors.js';
import { installHostGuard } from './host-guard.js';
import { InferencePool } from './inference-pool.js';
import { readModelInfo, type ModelInfo } from './model-info.js';
import { openApiDocument } from './openapi.js';
import { registerPredictRoute } from './predict-route.js';
import { readServedReport } from './report-page.js';
import type { UploadLimits } from './upload.js';

export interface ServeOptions {
  runDir: string;
  /** The interface the server listens on; also the name (besides loopback) clients may use in Host. */
  host?: string;
  device?: string;
  /** Inference workers; each holds its own copy of the model. */
  workers?: number;
  /** CPU threads per worker for libtorch. */
  threads?: number;
  /** Requests waiting for a worker before new ones get 503. */
  maxQueue?: number;
  maxFiles?: number;
  maxFileBytes?: number;
  /** All files of one request together. */
  maxRequestBytes?: number;
  /** The uploads of all requests being received or waiting, together (default: twice maxRequestBytes). */
  maxBufferedBytes?: number;
  maxInputPixels?: number;
  /** Open cases kept in memory; past it the least recently used is closed. */
  maxCases?: number;
  /** Images one case may hold (added in batches of at most maxFiles). */
  maxCellsPerCase?: number;
  /** The images and maps of all open cases together. */
  maxCaseBytes?: number;
  /** The stated share of flagged cells above which a case is referred (the case summary's rule). */
  maxFlaggedShare?: number;
  timeouts?: Partial<typeof serveTimeouts>;
  /** Where counts and timings go; nothing about the images. Default: stderr. */
  log?: (line: string) => void;
}

export const serveDefaults = {
  host: '127.0.0.1', device: 'cpu', workers: 1, maxQueue: 16, maxFiles: 32,
  maxFileBytes: 25_000_000, maxRequestBytes: 200_000_000, maxInputPixels: 40_000_000,
  // A case of 1000 cells with two maps is about 100 MB of PNGs; 32 small cases or a few large ones fit.
  maxCases: 32, maxCellsPerCase: 1000, maxCaseBytes: 512_000_000, maxFlaggedShare: DEFAULT_MAX_FLAGGED_SHARE,
};

/** Without these a client that opens a connection, or starts an upload, and stalls holds it forever. */
export const serveTimeouts = {
  /** To receive the headers. */
  headersMs: 20_000,
  /** To receive the whole request, upload included (200 MB at 20 Mbit/s). */
  requestMs: 120_000,
  /** From routing to the answer: upload, waiting in the queue, analysis. */
  handlerMs: 300_000,
  /** A socket with no traffic at all; longer than the handler's limit, since an analysis sends nothing while it runs. */
  idleMs: 330_000,
  /** An idle keep-alive connection between requests. */
  keepAliveMs: 5_000,
};

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

export interface Server {
  app: FastifyInstance;
  info: ModelInfo;
  pool: InferencePool;
  /** Listens on the host given at creation; resolves with the URL. Port 0 picks a free one. */
  listen(port: number): Promise<string>;
  close(): Promise<void>;
}

export async function createServer(options: ServeOptions): Promise<Server> {
  const o = { ...serveDefaults, ...options };
  if (!(o.maxFlaggedShare >= 0 && o.maxFlaggedShare <= 1)) throw new Error(`maxFlaggedShare must be a share in [0, 1], got ${o.maxFlaggedShare}`);
  const timeouts = { ...serveTimeouts, ...options.timeouts };
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const info = readModelInfo(o.runDir);
  const files = loadPublicFiles();
  const limits: UploadLimits = { maxFiles: o.maxFiles, maxFileBytes: o.maxFileBytes, maxRequestBytes: o.maxRequestBytes };
  const admission = new Admission({ places: o.workers + o.maxQueue, maxRequestBytes: o.maxRequestBytes, maxBufferedBytes: o.maxBufferedBytes ?? 2 * o.maxRequestBytes });
  const pool = await InferencePool.start({ runDir: o.runDir, device: o.device, workers: o.workers, threads: o.threads, maxQueue: o.maxQueue, maxInputPixels: o.maxInputPixels });
  try {
    return await buildApp(o, timeouts, { info, files, limits, admission, pool, log });
  } catch (error) {
    await pool.close();
    throw error;
  }
}

interface AppParts {
  info: ModelInfo;
  files: Map<string, { body: Buffer; type: string }>;
  limits: UploadLimits;
  admission: Admission;
  pool: InferencePool;
  log: (line: string) => void;
}

async function buildApp(o: ServeOptions & typeof serveDefaults, timeouts: typeof serveTimeouts, { info, files, limits, admission, pool, log }: AppParts): Promise<Server> {
  const checkEvery = Math.min(30_000, Math.ceil(Math.min(timeouts.headersMs, timeouts.requestMs) / 4));
  const app = Fastify({
    logger: false,
    // Only multipart bodies are read, by the upload reader under its own limits; any other body is small or refused.
    bodyLimit: 64 * 1024,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    requestTimeout: timeouts.requestMs,
    handlerTimeout: timeouts.handlerMs,
    http: { headersTimeout: timeouts.headersMs, requestTimeout: timeouts.requestMs, connectionsCheckingInterval: checkEvery },
  });
  installHostGuard(app, o.host, () => (app.server.address() as AddressInfo | null)?.port ?? null);
  // A page elsewhere may not even embed what this server answers (a case's cell images, say, by a
  // guessed case id in an <img>): browsers refuse cross-origin loads of same-origin resources.
  app.addHook('onRequest', async (_request, reply) => { reply.header('cross-origin-resource-policy', 'same-origin'); });
  installErrorHandlers(app, log);
  // Busboy options (not in the plugin's types): keep the name as sent (busboy would strip paths silently) and decode it as UTF-8, so odd names are seen and judged.
  const busboyOptions = { preservePath: true, defParamCharset: 'utf8' };
  await app.register(multipart, {
    limits: { files: o.maxFiles, fileSize: o.maxFileBytes, fields: 8, parts: o.maxFiles + 8, fieldSize: 1000 },
    ...busboyOptions,
  });

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
    return reply.header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(readServedReport(o.runDir));
  });
  app.get('/api/health', async () => ({ ok: true, busy: pool.busy, queued: pool.pending, admitted: admission.inFlight }));
  registerPredictRoute(app, { info, pool, admission, limits, maxFlaggedShare: o.maxFlaggedShare, log });
  const store = new CaseStore({ maxCases: o.maxCases, maxCellsPerCase: o.maxCellsPerCase, maxBytes: o.maxCaseBytes });
  registerCaseRoutes(app, { info, pool, admission, limits, store, maxFlaggedShare: o.maxFlaggedShare, log });

  return {
    app,
    info,
    pool,
    async listen(port: number) {
      return app.listen({ port, host: o.host });
    },
    async close() {
      await app.close();
      await pool.close();
    },
  };
}
