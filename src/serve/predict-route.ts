// POST /api/predict: admit (before the body is read), read the uploads, run them in the pool, and
// answer with one prediction per image and the case summary.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Admission } from './admission.js';
import { nameUpload, ServeError, statusOfImageReason, type FileProblem } from './errors.js';
import { QueueFullError, type InferencePool } from './inference-pool.js';
import type { ModelInfo } from './model-info.js';
import { OVERLAY_METHODS, type OverlayMethod, type ServedPrediction } from './protocol.js';
import { readUploads, type Upload, type UploadLimits } from './upload.js';

export interface PredictRouteContext {
  info: ModelInfo;
  pool: InferencePool;
  admission: Admission;
  limits: UploadLimits;
  /** The stated share of flagged cells above which a case is referred. */
  maxFlaggedShare: number;
  log: (line: string) => void;
}

const dataUrl = (png: Uint8Array): string => `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString('base64')}`;

export function parseOverlays(query: unknown, info: ModelInfo): OverlayMethod[] {
  const raw = (query as { overlays?: string }).overlays;
  if (raw === undefined) return [...info.defaultMaps];
  const asked = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (asked.length === 1 && asked[0] === 'none') return [];
  const unknown = asked.filter((m) => !OVERLAY_METHODS.includes(m as OverlayMethod));
  if (unknown.length) throw new ServeError(400, 'bad-overlays', `unknown overlay method(s) ${unknown.join(', ')}; use ${OVERLAY_METHODS.join(', ')} or none`);
  return asked as OverlayMethod[];
}

async function analyse(ctx: PredictRouteContext, uploads: Upload[], overlays: OverlayMethod[], started: number) {
  const { info, pool, log } = ctx;
  let outcomes;
  try {
    outcomes = await pool.predict(uploads, overlays);
  } catch (error) {
    if (error instanceof QueueFullError) throw new ServeError(503, 'busy', error.message);
    throw error;
  }
  const problems: FileProblem[] = [];
  outcomes.forEach((outcome, index) => {
    if (!outcome.ok) problems.push({ index, name: uploads[index].name, reason: outcome.reason, message: nameUpload(uploads[index].name, outcome.message) });
  });
  if (problems.length) {
    log(`serve: predict refused, ${uploads.length} image(s), ${problems.length} unusable, ${Math.round(performance.now() - started)} ms`);
    const first = problems[0];
    const summary = problems.length === 1 ? `"${first.name}": ${first.message}` : `${problems.length} of ${uploads.length} files cannot be used (first, "${first.name}": ${first.message})`;
    throw new ServeError(statusOfImageReason(first.reason), first.reason, summary, problems);
  }
  const served = outcomes as ServedPrediction[];
  const summary = await pool.summarize(served.map(({ inputPng: _png, heatmaps: _maps, ...call }) => call), null, ctx.maxFlaggedShare);
  // The embeddings are for case models and the OOD check, not for people: they stay out of the answer.
  const predictions = served.map(({ embedding: _embedding, caseEmbedding: _caseEmbedding, ...call }) => call);
  const elapsed = Math.round(performance.now() - started);
  log(`serve: predict ${uploads.length} image(s), ${overlays.length} overlay method(s), ${elapsed} ms`);
  return {
    model: info.name,
    classes: info.classes,
    referralThreshold: info.calibration.referralThreshold,
    // The prediction core's own result (the fields `aplnet predict --format json` prints), with the
    // image and its maps as PNG data URLs for the page.
    images: predictions.map(({ inputPng, heatmaps, ...call }, index) => ({
      index,
      ...call,
      input: dataUrl(inputPng),
      heatmaps: Object.fromEntries(Object.entries(heatmaps).map(([method, png]) => [method, dataUrl(png)])),
    })),
    // THE case summary (src/run), as predict and the report show it: all images of one request are one case.
    case: summary,
    elapsedMs: elapsed,
  };
}

export function registerPredictRoute(app: FastifyInstance, ctx: PredictRouteContext): void {
  app.post('/api/predict', async (request: FastifyRequest) => {
    const started = performance.now();
    const overlays = parseOverlays(request.query, ctx.info);
    let ticket;
    try {
      ticket = ctx.admission.admit(request.headers['content-length']);
    } catch (error) {
      ctx.log(`serve: predict refused before reading the upload (${error instanceof ServeError ? error.code : 'error'}), ${ctx.admission.inFlight} request(s) in flight`);
      throw error;
    }
    try {
      const uploads = await readUploads(request, ctx.limits);
      return await analyse(ctx, uploads, overlays, started);
    } finally {
      ticket.release();
    }
  });
}
