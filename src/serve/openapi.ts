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
        code: { type: 'string', description: 'stable code: no-images, not-multipart, bad-form, bad-file-name, file-too-large, request-too-large, too-many-files, not-an-image, corrupt, truncated, too-small, too-large, bad-overlays, busy, timeout, wrong-host, cross-origin, not-found, method-not-allowed' },
        message: { type: 'string', description: 'for people: what is wrong and what to do' },
        files: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, name: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

export function openApiDocument(info: ModelInfo, limits: UploadLimits): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'aplnet serve',
      version: info.aplnetVersion,
      description: `Local inference for the run "${info.name}" (classes: ${info.classes.join(', ')}). Research and decision support; not a diagnosis. Images never leave this machine and are not stored.`,
    },
    paths: {
      '/api/predict': {
        post: {
          summary: 'Predict one image or a case of many',
          description: `All images of one request form one case (one patient). At most ${limits.maxFiles} files of ${Math.round(limits.maxFileBytes / 1e6)} MB each, ${Math.round(limits.maxRequestBytes / 1e6)} MB in all. Whether a part is an image is decided by its bytes (PNG, JPEG, TIFF, BMP, WebP), whatever Content-Type it is sent with. If any file cannot be used the whole request is refused, naming each bad file. Requests from a browser must come from this server's own page (Origin), and every request must name this server in its Host header.`,
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
      '/api/model': { get: { summary: 'The model card: name, classes, input size, calibration and referral threshold, creation date, version, metrics', responses: { 200: { description: 'model card', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/api/health': { get: { summary: 'Liveness and queue depth', responses: { 200: { description: 'ok', content: { 'application/json': { schema: { type: 'object', properties: { ok: { type: 'boolean' }, busy: { type: 'integer' }, queued: { type: 'integer' }, admitted: { type: 'integer', description: 'requests being received, queued or analysed' } } } } } } } } },
      '/api/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
    components: {
      schemas: {
        Error: error,
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
                  referReason: { type: ['string', 'null'], description: "why it is referred ('low-confidence'), or null" },
                  notes: { type: 'array', items: { type: 'string' }, description: 'conversions applied: grayscale, alpha-flattened, 16-bit, cmyk, …' },
                  input: { type: 'string', description: 'PNG data URL of the image as the model saw it' },
                  heatmaps: { type: 'object', additionalProperties: { type: 'string' }, description: 'PNG data URL of each explanation map, keyed by method: RGBA at the input size, colour by value, alpha clear below the floor and rising with the value; draw it over input at the chosen opacity' },
                },
              },
            },
            case: {
              type: 'object',
              properties: {
                images: { type: 'integer' },
                predicted: { type: 'string' },
                probability: { type: 'number' },
                probabilities,
                refer: { type: 'boolean' },
                ranking: { type: 'array', items: { type: 'integer' }, description: 'image indices, most supportive of the case\'s call first' },
              },
            },
            elapsedMs: { type: 'integer' },
          },
        },
      },
    },
  };
}
