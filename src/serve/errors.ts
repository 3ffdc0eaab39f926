// Every refusal the API makes: an HTTP status, a stable code for programs and a message for people.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface FileProblem {
  /** The upload's position in the request and its (sanitised) name. */
  index: number;
  name: string;
  reason: string;
  message: string;
}

export class ServeError extends Error {
  override readonly name = 'ServeError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly files?: FileProblem[],
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; files?: FileProblem[] } } {
    return { error: { code: this.code, message: this.message, ...(this.files ? { files: this.files } : {}) } };
  }
}

/** The decoder names bytes "<uploaded image>" (it is never given the name): say which upload it was. */
export const nameUpload = (name: string, message: string): string => message.split('<uploaded image>').join(name);

/** Decoding failures (DataError reasons) as HTTP statuses. */
export function statusOfImageReason(reason: string): number {
  if (reason === 'not-an-image') return 415;
  if (reason === 'too-large') return 413;
  return 422;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Fastify's own refusals, reworded where its message would puzzle a user. */
const frameworkErrors: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'not-multipart', 'send images as multipart/form-data, one "image" part per file'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'bad-body', 'the request says it holds JSON but its body is empty: send a JSON object'],
  FST_ERR_HANDLER_TIMEOUT: [503, 'timeout', 'the request took too long to receive and analyse; try again with fewer images'],
};

/**
 * JSON for every error; 405 with an Allow header for a known path asked with another method (a
 * 404 there sends people looking for a page that exists); 500s are logged, their detail is not sent.
 */
export function installErrorHandlers(app: FastifyInstance, log: (line: string) => void): void {
  app.setErrorHandler((error: FastifyError | ServeError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof ServeError) {
      if (error.status === 503) reply.header('retry-after', '2');
      return reply.code(error.status).send(error.toJSON());
    }
    // The JSON routes (reviews, renames) are refused in their own words, not the upload's.
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && (request.method === 'PUT' || request.method === 'PATCH')) {
      return reply.code(415).send(new ServeError(415, 'not-json', 'send a JSON object with Content-Type: application/json').toJSON());
    }
    const known = error.code ? frameworkErrors[error.code] : undefined;
    if (known) return reply.code(known[0]).send(new ServeError(...known).toJSON());
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) log(`serve: internal error: ${error.message ?? String(error)}`);
    const message = status === 500 ? 'internal error; the server log has details' : (error.message || 'bad request');
    return reply.code(status).send({ error: { code: error.code ?? 'bad-request', message } });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = METHODS.filter((method) => app.hasRoute({ method, url: path }));
    if (allowed.length) {
      return reply.code(405).header('allow', allowed.join(', ')).send(new ServeError(405, 'method-not-allowed', `${path} answers ${allowed.join(', ')}, not ${request.method}`).toJSON());
    }
    return reply.code(404).send(new ServeError(404, 'not-found', 'no such page or API route; see /api/openapi.json').toJSON());
  });
}
