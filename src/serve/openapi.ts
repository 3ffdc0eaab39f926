// The API's contract, written by hand (OpenAPI 3.1) so that it reads as documentation.
import type { ModelInfo } from './model-info.js';
import { OVERLAY_METHODS } from './protocol.js';
import type { UploadLimits } from './upload.js';

const probabilities = { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 }, description: 'calibrated probability of each class, keyed by class name' };

const error = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable code: no-images, not-multipart, bad-form, bad-file-name, file-too-large, request-too-large, too-many-files, not-an-image, corrupt, truncated, too-small, too-large, bad-overlays, busy, timeout, wrong-host, cross-origin, not-found, method-not-allowed; for cases: bad-case-id, no-such-case, case-exists, case-full, bad-cell, no-such-cell, no-image, no-such-map, not-reviewable, bad-review-class, bad-body, not-json, bad-opacity' },
        message: { type: 'string', description: 'for people: what is wrong and what to do' },
        files: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, name: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (description: string, schema: Record<string, unknown>) => ({ description, content: { 'application/json': { schema } } });
const caseRef = { $ref: '#/components/schemas/Case' };
const caseIdParam = { name: 'caseId', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }, description: 'the case id: a lab\'s accession number or the page\'s generated id' };
const cellParam = { name: 'index', in: 'path', required: true, schema: { type: 'integer', minimum: 0 }, description: 'the cell\'s number in its case, from 0 in the order added' };
const noCase = errorResponse('no open case with this id (cases live in memory only; the least recently used is closed past the server\'s maximum), or no such cell');
const badId = errorResponse('a case id or cell number that is not well formed');

/** The open case: added to in batches, reviewed, renamed, exported; kept in the server's memory only. */
function casePaths(info: ModelInfo, limits: UploadLimits): Record<string, unknown> {
  const download = (type: string, description: string) => ({ description, content: { [type]: { schema: { type: 'string' } } } });
  return {
    '/api/limits': { get: { summary: 'What one request and one case may hold, and the stated share of flagged cells', responses: { 200: json('the limits', { type: 'object', properties: { maxFiles: { type: 'integer' }, maxFileBytes: { type: 'integer' }, maxRequestBytes: { type: 'integer' }, maxCases: { type: 'integer' }, maxCellsPerCase: { type: 'integer' }, maxFlaggedShare: { type: 'number' } } }) } } },
    '/api/cases': { get: { summary: 'The cases open on this server, most recently used first', responses: { 200: json('open cases', { type: 'object', properties: { cases: { type: 'array', items: { type: 'object', properties: { caseId: { type: 'string' }, cells: { type: 'integer' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' } } } } } }) } } },
    '/api/cases/{caseId}': {
      parameters: [caseIdParam],
      get: { summary: 'The case: every cell with the model\'s call and the reviewer\'s class, the case summary and the differential counted both ways', responses: { 200: json('the case', caseRef), 400: badId, 404: noCase } },
      patch: { summary: 'Rename the case', requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['caseId'], additionalProperties: false, properties: { caseId: { type: 'string' } } } } } }, responses: { 200: json('the renamed case', caseRef), 400: badId, 404: noCase, 409: errorResponse('a case with the new id is already open'), 415: errorResponse('the body is not JSON') } },
      delete: { summary: 'Close the case (its images and reviews are forgotten)', responses: { 204: { description: 'closed' }, 404: noCase } },
    },
    '/api/cases/{caseId}/cells': {
      parameters: [caseIdParam],
      post: {
        summary: 'Add images to the case (opened if new)',
        description: `Images are sent in batches under the limits of POST /api/predict (${limits.maxFiles} files, ${Math.round(limits.maxRequestBytes / 1e6)} MB a request). A file that cannot be used, or whose bytes are already in the case, is skipped and named in "skipped" with the prediction core's reason; the others are added. An unreadable file stays in the case as such (the summary counts it).`,
        parameters: [{ name: 'overlays', in: 'query', required: false, schema: { type: 'string', default: info.defaultMaps.join(',') }, description: 'maps to compute for each cell, as for /api/predict' }],
        requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { image: { type: 'array', items: { type: 'string', format: 'binary' } } } } } } },
        responses: {
          200: json('what was added and skipped, and the case as it now stands', { type: 'object', properties: { caseId: { type: 'string' }, added: { type: 'array', items: { type: 'integer' } }, skipped: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, reason: { type: 'string', description: 'the core\'s reason (not-an-image, corrupt, …), duplicate, case-full or case-too-large' }, message: { type: 'string' } } } }, case: caseRef, elapsedMs: { type: 'integer' } } }),
          400: badId, 413: errorResponse('too many files or bytes in the request, or the case already holds the most images a case may'), 415: errorResponse('not multipart/form-data'), 503: errorResponse('busy; retry after Retry-After'),
        },
      },
    },
    '/api/cases/{caseId}/cells/{index}/input.png': { parameters: [caseIdParam, cellParam], get: { summary: 'The cell as the model saw it', responses: { 200: { description: 'PNG', content: { 'image/png': {} } }, 400: badId, 404: noCase } } },
    '/api/cases/{caseId}/cells/{index}/maps/{method}.png': { parameters: [caseIdParam, cellParam, { name: 'method', in: 'path', required: true, schema: { type: 'string', enum: [...OVERLAY_METHODS] } }], get: { summary: 'A map of the cell: colour by value, alpha clear below the floor; draw it over input.png', responses: { 200: { description: 'PNG', content: { 'image/png': {} } }, 404: errorResponse('no such case, cell or map') } } },
    '/api/cases/{caseId}/cells/{index}/review': {
      parameters: [caseIdParam, cellParam],
      put: {
        summary: 'Record the reviewer\'s class for a cell, beside the model\'s call (never replacing it)',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['className'], additionalProperties: false, properties: { className: { type: ['string', 'null'], description: `one of ${[...info.classes, 'other-cell', 'not-a-cell'].join(', ')}; the predicted class confirms the call; null takes the review back` } } } } } },
        responses: { 200: json('the cell and the reviewed differential', { type: 'object' }), 400: errorResponse('an unknown class or a malformed body'), 404: noCase, 409: errorResponse('the cell is an unreadable file'), 415: errorResponse('the body is not JSON') },
      },
    },
    '/api/cases/{caseId}/export.json': { parameters: [caseIdParam], get: { summary: 'The case as JSON: summary, differential (model and reviewed), each cell\'s call, probabilities, OOD flag and reviewer\'s class', responses: { 200: download('application/json', 'attachment'), 404: noCase } } },
    '/api/cases/{caseId}/export.csv': { parameters: [caseIdParam], get: { summary: 'The same as CSV: one table, a "record" column saying case, class or cell', responses: { 200: download('text/csv', 'attachment'), 404: noCase } } },
    '/api/cases/{caseId}/export.html': {
      parameters: [caseIdParam,
        { name: 'overlay', in: 'query', required: false, schema: { type: 'string', default: info.defaultMaps[0] }, description: 'the map drawn beside each original, or none' },
        { name: 'opacity', in: 'query', required: false, schema: { type: 'number', minimum: 0, maximum: 0.8, default: 0.6 } }],
      get: { summary: 'A self-contained HTML file: the summary, the differential, and each cell\'s original beside its overlay', responses: { 200: download('text/html', 'attachment'), 400: errorResponse('an unknown overlay or an opacity out of range'), 404: noCase } },
    },
  };
}

const caseSchema = {
  type: 'object',
  properties: {
    caseId: { type: 'string' }, createdAt: { type: 'string' }, updatedAt: { type: 'string' }, model: { type: 'string' },
    classes: { type: 'array', items: { type: 'string' } },
    reviewClasses: { type: 'array', items: { type: 'string' }, description: 'the run\'s classes, other-cell and not-a-cell' },
    referralThreshold: { type: 'number' },
    summary: { $ref: '#/components/schemas/CaseSummary' },
    reviewed: { type: 'object', description: 'the differential after review: reviewed cells by the reviewer\'s class, the rest by the model\'s call; other-cell counts, not-a-cell does not', properties: { reviewed: { type: 'integer' }, reclassified: { type: 'integer' }, counted: { type: 'integer' }, notACell: { type: 'integer' }, rows: { type: 'array', items: { type: 'object', properties: { className: { type: 'string' }, modelCount: { type: 'integer' }, modelPercent: { type: 'number' }, reviewedCount: { type: 'integer' }, reviewedPercent: { type: 'number' } } } } } },
    cells: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' }, file: { type: 'string', description: 'the uploaded name, made unique within the case' }, ok: { type: 'boolean' },
          group: { type: 'string', enum: ['class', 'low-confidence', 'out-of-distribution', 'unreadable'] },
          predicted: { type: ['string', 'null'] }, confidence: { type: ['number', 'null'] }, probabilities: { type: ['object', 'null'] },
          refer: { type: 'boolean' }, referReason: { type: ['string', 'null'] },
          ood: { type: ['object', 'null'], properties: { score: { type: 'number' }, threshold: { type: 'number' }, flagged: { type: 'boolean' } } },
          reason: { type: ['string', 'null'] }, message: { type: ['string', 'null'] },
          weight: { type: ['number', 'null'] }, rank: { type: ['integer', 'null'] },
          review: { type: ['object', 'null'], properties: { className: { type: 'string' }, reviewedAt: { type: 'string' } } },
          reviewedClass: { type: ['string', 'null'] },
          images: { type: 'object', properties: { input: { type: ['string', 'null'] }, maps: { type: 'object', additionalProperties: { type: 'string' } } } },
        },
      },
    },
  },
};

const caseSummarySchema = {
  type: 'object',
  description: 'THE case summary (the same as aplnet predict\'s): counts, the differential, the case call (null for a cell-type run) and the case flag, which refers while flagged cells exceed the stated share',
  properties: {
    caseId: { type: ['string', 'null'] }, cells: { type: 'integer' }, failed: { type: 'integer' }, outOfDistribution: { type: 'integer' }, usable: { type: 'integer' },
    flagRule: { type: 'string', enum: ['low-confidence', 'set-aside'], description: 'what flagged counts: usable cells unsure on their own (labels are cell types), or images set aside as unreadable or unlike the training cells (labels belong to the patient)' },
    flagged: { type: 'integer' }, flaggedShare: { type: 'number' }, maxFlaggedShare: { type: 'number' }, lowConfidence: { type: 'integer' },
    differential: { type: 'array', items: { type: 'object', properties: { className: { type: 'string' }, count: { type: 'integer' }, percent: { type: 'number' } } } },
    call: { type: ['object', 'null'], properties: { label: { type: 'string' }, probability: { type: 'number' }, probabilities, source: { type: 'string', enum: ['case-model', 'mean-probability', 'mean-log-probability', 'majority-vote'] }, refer: { type: 'boolean' }, referReasons: { type: 'array', items: { type: 'string' } }, threshold: { type: 'number', description: 'the call is referred below this case probability (1: every call)' }, thresholdSource: { type: 'string' } } },
    refer: { type: 'boolean' }, referReasons: { type: 'array', items: { type: 'string' } },
    ranked: { type: 'array', items: { type: 'object', properties: { file: { type: 'string' }, weight: { type: 'number' }, predicted: { type: 'string' }, confidence: { type: 'number' }, refer: { type: 'boolean' }, outOfDistribution: { type: 'boolean' } } } },
  },
};

export function openApiDocument(info: ModelInfo, limits: UploadLimits): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'aplnet serve',
      version: info.aplnetVersion,
      description: `Local inference for the run "${info.name}" (classes: ${info.classes.join(', ')}). Research and decision support; not a diagnosis. Images never leave this machine and are never written to disk: /api/predict keeps nothing, and the open cases (/api/cases) are kept in memory only, until they are closed or the server stops.`,
    },
    paths: {
      '/api/predict': {
        post: {
          summary: 'Predict one image or a case of many',
          description: `All images of one request form one case (one patient); to build a case over many requests, use /api/cases. At most ${limits.maxFiles} files of ${Math.round(limits.maxFileBytes / 1e6)} MB each, ${Math.round(limits.maxRequestBytes / 1e6)} MB in all. Whether a part is an image is decided by its bytes (PNG, JPEG, TIFF, BMP, WebP), whatever Content-Type it is sent with. If any file cannot be used the whole request is refused, naming each bad file. Requests from a browser must come from this server's own page (Origin), and every request must name this server in its Host header.`,
          parameters: [{
            name: 'overlays', in: 'query', required: false,
            schema: { type: 'string', default: info.defaultMaps.join(','), examples: [info.defaultMaps[0], info.defaultMaps.join(','), 'none'] },
            description: `explanation maps to return as PNG data URLs, comma-separated: ${OVERLAY_METHODS.join(', ')}; or none`,
          }],
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: { type: 'object', properties: { image: { type: 'array', items: { type: 'string', format: 'binary' } } } },
              },
            },
          },
          responses: {
            200: { description: 'one prediction per image and the case summary', content: { 'application/json': { schema: { $ref: '#/components/schemas/Prediction' } } } },
            400: errorResponse('no images, an unusable file name, a malformed multipart body (boundary) or an unknown overlay method'),
            403: errorResponse('sent by a web page of another origin'),
            413: errorResponse('too many files, a file or the whole request too large (refused from Content-Length before the upload is read), or an image with too many pixels'),
            415: errorResponse('not multipart/form-data, or a file whose bytes are not an image'),
            421: errorResponse('the Host header does not name this server (DNS rebinding protection)'),
            422: errorResponse('a corrupt, truncated or too small image'),
            503: errorResponse('the server is busy (refused before the upload is read) or the request took too long; retry after the Retry-After header\'s seconds'),
          },
        },
      },
      '/api/model': { get: { summary: 'The model card: name, classes, input size and the part of an image it reads (framing), calibration and referral threshold, creation date, version, metrics', responses: { 200: { description: 'model card', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/api/health': { get: { summary: 'Liveness and queue depth', responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { ok: { type: 'boolean' }, busy: { type: 'integer' }, queued: { type: 'integer' }, admitted: { type: 'integer', description: 'requests being received, queued or analysed' } } } } } } } } },
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
      ...casePaths(info, limits),
    },
    components: {
      schemas: {
        Error: error,
        Case: caseSchema,
        CaseSummary: caseSummarySchema,
        Prediction: {
          type: 'object',
          properties: {
            model: { type: 'string' },
            classes: { type: 'array', items: { type: 'string' } },
            referralThreshold: { type: 'number' },
            images: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  index: { type: 'integer' },
                  file: { type: 'string', description: 'the uploaded file name' },
                  ok: { type: 'boolean' },
                  predicted: { type: 'string' },
                  confidence: { type: 'number', description: 'calibrated probability of the predicted class' },
                  probabilities,
                  refer: { type: 'boolean', description: 'below the referral threshold: refer to a specialist' },
                  referReason: { type: ['string', 'null'], description: "why it is referred ('low-confidence', 'out-of-distribution'), or null" },
                  ood: { type: 'object', description: 'how unlike the training cells the image is, when the run has an out-of-distribution detector; flagged images are left out of the case call and the differential', properties: { score: { type: 'number' }, threshold: { type: 'number' }, flagged: { type: 'boolean' } } },
                  notes: { type: 'array', items: { type: 'string' }, description: 'conversions applied: grayscale, alpha-flattened, 16-bit, cmyk, …' },
                  input: { type: 'string', description: 'PNG data URL of the image as the model saw it' },
                  heatmaps: { type: 'object', additionalProperties: { type: 'string' }, description: 'PNG data URL of each explanation map, keyed by method: RGBA at the input size, colour by value, alpha clear below the floor and rising with the value; draw it over input at the chosen opacity' },
                },
              },
            },
            case: { $ref: '#/components/schemas/CaseSummary' },
            elapsedMs: { type: 'integer' },
          },
        },
      },
    },
  };
}
