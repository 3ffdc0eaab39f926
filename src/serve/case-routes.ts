// The open case over HTTP: add images to it in batches (each batch admitted and read under the same
// limits as POST /api/predict; a file that cannot be used is reported by name and skipped, never
// losing the case), read it back after a reload, review its cells, rename, close and export it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_OPACITY } from '../explain/index.js';
import type { CaseSummary } from '../run/index.js';
import type { Admission } from './admission.js';
import { caseExportCsv, caseExportJson } from './case-export.js';
import { caseExportHtml } from './case-export-html.js';
import { checkReviewClass } from './case-review.js';
import { checkCaseId, sha256Of, type CaseStore, type NewCell, type OpenCase, type SkippedFile } from './case-store.js';
import { caseView, cellView, ranksOf, type CaseView } from './case-view.js';
import { nameUpload, ServeError } from './errors.js';
import { QueueFullError, type InferencePool } from './inference-pool.js';
import type { ModelInfo } from './model-info.js';
import { parseOverlays } from './predict-route.js';
import { OVERLAY_METHODS, type OverlayMethod, type ServedPrediction, type StoredResult } from './protocol.js';
import { readUploads, type UploadLimits } from './upload.js';

export interface CaseRouteContext {
  info: ModelInfo;
  pool: InferencePool;
  admission: Admission;
  limits: UploadLimits;
  store: CaseStore;
  maxFlaggedShare: number;
  log: (line: string) => void;
}

/** The largest opacity an exported overlay may be drawn at (as on the page: past it the cell hides under colour). */
const MAX_EXPORT_OPACITY = 0.8;
const summaries = new WeakMap<OpenCase, { revision: number; summary: Promise<CaseSummary> }>();

/** The case summary, computed once per revision of the case (concurrent readers share it). */
function summaryOf(ctx: CaseRouteContext, openCase: OpenCase): Promise<CaseSummary> {
  const cached = summaries.get(openCase);
  if (cached && cached.revision === openCase.revision) return cached.summary;
  const summary = ctx.pool.summarize(openCase.cells.map((c) => c.result), openCase.caseId, ctx.maxFlaggedShare);
  const entry = { revision: openCase.revision, summary };
  summaries.set(openCase, entry);
  summary.catch(() => { if (summaries.get(openCase) === entry) summaries.delete(openCase); });
  return summary;
}

async function viewOf(ctx: CaseRouteContext, openCase: OpenCase): Promise<CaseView> {
  return caseView(openCase, await summaryOf(ctx, openCase), ctx.info);
}

function cellIndex(raw: string): number {
  if (!/^\d{1,6}$/.test(raw)) throw new ServeError(400, 'bad-cell', `the cell number "${raw.slice(0, 20)}" is not a whole number`);
  return Number(raw);
}

/** A JSON body that is an object holding exactly the keys named. */
function jsonBody(request: FastifyRequest, keys: string[]): Record<string, unknown> {
  // Fastify would also read text/plain; only JSON is taken, so a form post from elsewhere cannot pass as a review.
  if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) throw new ServeError(415, 'not-json', 'send a JSON object with Content-Type: application/json');
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServeError(400, 'bad-body', `send a JSON object with ${keys.map((k) => `"${k}"`).join(', ')}`);
  const extra = Object.keys(body).filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !(k in body));
  if (extra.length || missing.length) throw new ServeError(400, 'bad-body', `the JSON object must hold exactly ${keys.map((k) => `"${k}"`).join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; unexpected ${extra.slice(0, 5).join(', ')}` : ''}`);
  return body as Record<string, unknown>;
}

const params = (request: FastifyRequest): Record<string, string> => request.params as Record<string, string>;

function sendPng(reply: FastifyReply, png: Buffer): FastifyReply {
  return reply.headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).type('image/png').send(png);
}

function download(reply: FastifyReply, caseId: string, extension: string, type: string, body: string): FastifyReply {
  return reply.headers({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-disposition': `attachment; filename="aplnet-case-${caseId}.${extension}"` }).type(type).send(body);
}

async function addCells(ctx: CaseRouteContext, request: FastifyRequest): Promise<{ caseId: string; added: number[]; skipped: SkippedFile[]; case: CaseView; elapsedMs: number }> {
  const started = performance.now();
  const caseId = checkCaseId(params(request).caseId);
  const overlays = parseOverlays(request.query, ctx.info);
  const ticket = ctx.admission.admit(request.headers['content-length']);
  try {
    const uploads = await readUploads(request, ctx.limits);
    const openCase = ctx.store.open(caseId);
    if (ctx.store.room(openCase) <= 0) throw new ServeError(413, 'case-full', `case "${caseId}" already holds ${openCase.cells.length} images, the most one case may hold; export it and start a new case`);
    // Hash before the bytes move to a worker; a file already in the case is not analysed again.
    const hashes = uploads.map((u) => sha256Of(u.bytes));
    const skipped: SkippedFile[] = [];
    const fresh = uploads.map((u, i) => ({ upload: u, hash: hashes[i] })).filter(({ upload, hash }) => {
      const earlier = ctx.store.duplicateOf(openCase, hash);
      if (earlier) skipped.push({ name: upload.name, reason: 'duplicate', message: `${upload.name} has the same bytes as ${earlier.file}, already in this case; it was not added again (a cell counted twice would skew the differential)` });
      return !earlier;
    });
    let outcomes: Awaited<ReturnType<InferencePool['predict']>> = [];
    if (fresh.length) {
      try {
        outcomes = await ctx.pool.predict(fresh.map(({ upload }) => upload), overlays);
      } catch (error) {
        if (error instanceof QueueFullError) throw new ServeError(503, 'busy', error.message);
        throw error;
      }
    }
    const cells: NewCell[] = outcomes.map((outcome, i) => {
      const { upload, hash } = fresh[i];
      if (!outcome.ok) {
        const failure = { ...outcome, message: nameUpload(upload.name, outcome.message) };
        skipped.push({ name: upload.name, reason: failure.reason, message: failure.message });
        return { name: upload.name, hash, result: failure, inputPng: null, heatmaps: {} };
      }
      const { inputPng, heatmaps, ...call } = outcome as ServedPrediction;
      const stored: StoredResult = call;
      return { name: upload.name, hash, result: stored, inputPng: Buffer.from(inputPng), heatmaps: Object.fromEntries(Object.entries(heatmaps).map(([m, png]) => [m, Buffer.from(png!)])) };
    });
    const result = ctx.store.add(openCase, cells);
    skipped.push(...result.skipped);
    const view = await viewOf(ctx, openCase);
    const elapsedMs = Math.round(performance.now() - started);
    ctx.log(`serve: case add ${uploads.length} image(s), ${result.added.length} added, ${skipped.length} skipped, case of ${openCase.cells.length}, ${elapsedMs} ms`);
    return { caseId: openCase.caseId, added: result.added.filter((c) => c.result.ok).map((c) => c.index), skipped, case: view, elapsedMs };
  } finally {
    ticket.release();
  }
}

export function registerCaseRoutes(app: FastifyInstance, ctx: CaseRouteContext): void {
  const { store, info } = ctx;
  const openCase = (request: FastifyRequest): OpenCase => store.get(checkCaseId(params(request).caseId));

  app.get('/api/limits', async () => ({
    maxFiles: ctx.limits.maxFiles, maxFileBytes: ctx.limits.maxFileBytes, maxRequestBytes: ctx.limits.maxRequestBytes,
    maxCases: store.limits.maxCases, maxCellsPerCase: store.limits.maxCellsPerCase, maxFlaggedShare: ctx.maxFlaggedShare,
  }));
  app.get('/api/cases', async () => ({
    cases: store.list().map((c) => ({ caseId: c.caseId, cells: c.cells.length, createdAt: c.createdAt, updatedAt: c.updatedAt })),
  }));
  app.get('/api/cases/:caseId', async (request) => viewOf(ctx, openCase(request)));
  app.post('/api/cases/:caseId/cells', async (request) => addCells(ctx, request));
  app.patch('/api/cases/:caseId', async (request) => {
    const found = openCase(request);
    store.rename(found, checkCaseId(jsonBody(request, ['caseId']).caseId));
    return viewOf(ctx, found);
  });
  app.delete('/api/cases/:caseId', async (request, reply) => {
    store.close(openCase(request));
    return reply.code(204).send();
  });

  app.get('/api/cases/:caseId/cells/:index/input.png', async (request, reply) => {
    const cell = store.cell(openCase(request), cellIndex(params(request).index));
    if (!cell.inputPng) throw new ServeError(404, 'no-image', `${cell.file} could not be read, so there is no image to show`);
    return sendPng(reply, cell.inputPng);
  });
  app.get('/api/cases/:caseId/cells/:index/maps/:map', async (request, reply) => {
    const cell = store.cell(openCase(request), cellIndex(params(request).index));
    const method = params(request).map.replace(/\.png$/, '') as OverlayMethod;
    if (!OVERLAY_METHODS.includes(method)) throw new ServeError(404, 'no-such-map', `no map "${params(request).map.slice(0, 40)}": the maps are ${OVERLAY_METHODS.map((m) => `${m}.png`).join(', ')}`);
    const png = cell.heatmaps[method];
    if (!png) throw new ServeError(404, 'no-such-map', `the ${method} map was not computed for ${cell.file}: add images with ?overlays=${method} to have it`);
    return sendPng(reply, png);
  });

  app.put('/api/cases/:caseId/cells/:index/review', async (request) => {
    const found = openCase(request);
    const cell = store.cell(found, cellIndex(params(request).index));
    if (!cell.result.ok) throw new ServeError(409, 'not-reviewable', `${cell.file} could not be read, so there is no cell to review`);
    store.review(found, cell, checkReviewClass(jsonBody(request, ['className']).className, info.classes));
    const view = await viewOf(ctx, found);
    return { cell: cellView(found, cell, ranksOf(view.summary), view.summary.flagRule), reviewed: view.reviewed };
  });

  app.get('/api/cases/:caseId/export.json', async (request, reply) => {
    const view = await viewOf(ctx, openCase(request));
    return download(reply, view.caseId, 'json', 'application/json; charset=utf-8', `${JSON.stringify(caseExportJson(view, info), null, 2)}\n`);
  });
  app.get('/api/cases/:caseId/export.csv', async (request, reply) => {
    const view = await viewOf(ctx, openCase(request));
    return download(reply, view.caseId, 'csv', 'text/csv; charset=utf-8', caseExportCsv(view));
  });
  app.get('/api/cases/:caseId/export.html', async (request, reply) => {
    const found = openCase(request);
    const query = request.query as { overlay?: string; opacity?: string };
    const overlay = (query.overlay ?? info.defaultMaps[0]) as OverlayMethod | 'none';
    if (overlay !== 'none' && !OVERLAY_METHODS.includes(overlay)) throw new ServeError(400, 'bad-overlays', `unknown overlay "${String(overlay).slice(0, 40)}"; use ${OVERLAY_METHODS.join(', ')} or none`);
    const opacity = query.opacity === undefined ? DEFAULT_OPACITY : Number(query.opacity);
    if (!(opacity >= 0 && opacity <= MAX_EXPORT_OPACITY)) throw new ServeError(400, 'bad-opacity', `the opacity must be a number from 0 to ${MAX_EXPORT_OPACITY}, got "${String(query.opacity).slice(0, 20)}"`);
    const view = await viewOf(ctx, found);
    return download(reply, view.caseId, 'html', 'text/html; charset=utf-8', caseExportHtml(view, found, store, { overlay, opacity }));
  });
}
