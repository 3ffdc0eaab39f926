// Reading the uploaded images of one request into memory, part by part as they arrive, with a limit
// per file and one per request, so a request that is too large is refused when it crosses a limit,
// not after it has been buffered. Whether a part is an image is decided by its bytes (the decoder),
// never by the Content-Type it was sent with: Python's requests sends application/octet-stream,
// curl guesses from the extension, and neither says anything about the bytes.
import type { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { ServeError } from './errors.js';

export interface Upload {
  name: string;
  /** The file's bytes in an ArrayBuffer of their own, so they can be moved to a worker, not copied. */
  bytes: Uint8Array;
}

export interface UploadLimits {
  maxFiles: number;
  maxFileBytes: number;
  /** All files of one request together. */
  maxRequestBytes: number;
}

const MAX_NAME_LENGTH = 255;
const mb = (bytes: number): string => `${Math.round(bytes / 1e6)} MB`;

/**
 * A file name is only ever shown back, never used as a path; still, one that looks like a path or
 * carries control characters is refused, because no real image file is called that and the
 * client that sent it is broken or probing. Unicode names are fine (NFC-normalised).
 */
export function checkFileName(raw: string): string {
  const name = raw.normalize('NFC');
  // eslint-disable-next-line no-control-regex
  const problem = name.length === 0 ? 'is empty'
    : name.length > MAX_NAME_LENGTH ? `is longer than ${MAX_NAME_LENGTH} characters`
    : /[\u0000-\u001f\u007f\u202a-\u202e\u2066-\u2069]/u.test(name) ? 'contains control or bidi-override characters'
    : /[/\\]/.test(name) || name === '.' || name === '..' ? 'contains a path (/, \\ or ..); send the file name only'
    : null;
  if (problem) throw new ServeError(400, 'bad-file-name', `an uploaded file name ${problem}`);
  return name;
}

const multipartStatus: Record<string, [number, string, (l: UploadLimits) => string]> = {
  FST_REQ_FILE_TOO_LARGE: [413, 'file-too-large', (l) => `an uploaded file is larger than ${mb(l.maxFileBytes)}`],
  FST_FILES_LIMIT: [413, 'too-many-files', (l) => `at most ${l.maxFiles} images can be sent at once`],
  FST_PARTS_LIMIT: [413, 'too-many-parts', (l) => `the form has too many parts (at most ${l.maxFiles} images)`],
  FST_FIELDS_LIMIT: [413, 'too-many-fields', () => 'the form has too many text fields'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'not-multipart', () => 'send images as multipart/form-data'],
  FST_PROTO_VIOLATION: [400, 'bad-form', () => 'the form has a forbidden field name'],
  FST_MP_PREMATURE_CLOSE: [400, 'incomplete-upload', () => 'the upload was cut off before it finished'],
};

/**
 * Errors met while reading parts are ours (ServeError), the plugin's limits (by code), or the
 * multipart parser's verdict on the body (a boundary that is missing or never found, a bad part
 * header, a body that ends early): the last are the client's malformed request, a 400.
 */
function asServeError(error: unknown, limits: UploadLimits): ServeError {
  if (error instanceof ServeError) return error;
  const code = (error as { code?: string }).code;
  const known = code ? multipartStatus[code] : undefined;
  if (known) return new ServeError(known[0], known[1], known[2](limits));
  const reason = error instanceof Error ? error.message : String(error);
  return new ServeError(400, 'bad-form', `the multipart/form-data body is malformed (${reason}); send one "image" part per file, with the boundary named in the Content-Type header`);
}

/** Reads one file part, counting its bytes against the request's budget as they arrive. */
async function readFile(file: Readable & { truncated?: boolean }, budget: { left: number }, limits: UploadLimits): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of file as AsyncIterable<Buffer>) {
    size += chunk.length;
    budget.left -= chunk.length;
    if (budget.left < 0) throw new ServeError(413, 'request-too-large', `the images of one request may total at most ${mb(limits.maxRequestBytes)}: send fewer or smaller files (JPEG)`);
    if (file.truncated) throw new ServeError(413, 'file-too-large', `an uploaded file is larger than ${mb(limits.maxFileBytes)}`);
    chunks.push(chunk);
  }
  if (file.truncated) throw new ServeError(413, 'file-too-large', `an uploaded file is larger than ${mb(limits.maxFileBytes)}`);
  const bytes = new Uint8Array(new ArrayBuffer(size));
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

/**
 * After a refusal the rest of the body is read and dropped, so a client that sends its whole body
 * before reading the answer (Python's requests does) gets the answer instead of a stalled socket.
 * The server's request timeout bounds how long that can take.
 */
function discardRest(request: FastifyRequest): void {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return;
  raw.unpipe();
  raw.on('error', () => {});
  raw.resume();
}

export async function readUploads(request: FastifyRequest, limits: UploadLimits): Promise<Upload[]> {
  if (!request.isMultipart()) throw new ServeError(415, 'not-multipart', 'send images as multipart/form-data, one "image" part per file');
  const uploads: Upload[] = [];
  const budget = { left: limits.maxRequestBytes };
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      const name = checkFileName(part.filename ?? '');
      uploads.push({ name, bytes: await readFile(part.file, budget, limits) });
    }
  } catch (error) {
    discardRest(request);
    throw asServeError(error, limits);
  }
  if (uploads.length === 0) throw new ServeError(400, 'no-images', 'the request has no image files; send one or more "image" parts');
  return uploads;
}
