// Reading the uploaded images of one request into memory, refusing what cannot be a smear image
// before any decoding: wrong content types, too many or too large files, unusable file names.
import type { FastifyRequest } from 'fastify';
import { ServeError } from './errors.js';

export interface Upload {
  name: string;
  bytes: Buffer;
}

export interface UploadLimits {
  maxFiles: number;
  maxFileBytes: number;
}

export const ACCEPTED_IMAGE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/tiff', 'image/bmp', 'image/x-ms-bmp', 'image/webp'];

const MAX_NAME_LENGTH = 255;

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
  FST_REQ_FILE_TOO_LARGE: [413, 'file-too-large', (l) => `an uploaded file is larger than ${Math.round(l.maxFileBytes / 1e6)} MB`],
  FST_FILES_LIMIT: [413, 'too-many-files', (l) => `at most ${l.maxFiles} images can be sent at once`],
  FST_PARTS_LIMIT: [413, 'too-many-parts', (l) => `the form has too many parts (at most ${l.maxFiles} images)`],
  FST_FIELDS_LIMIT: [413, 'too-many-fields', () => 'the form has too many text fields'],
  FST_INVALID_MULTIPART_CONTENT_TYPE: [415, 'not-multipart', () => 'send images as multipart/form-data'],
  FST_PROTO_VIOLATION: [400, 'bad-form', () => 'the form has a forbidden field name'],
  FST_MP_PREMATURE_CLOSE: [400, 'incomplete-upload', () => 'the upload was cut off before it finished'],
};

function asServeError(error: unknown, limits: UploadLimits): unknown {
  const code = (error as { code?: string }).code;
  const known = code ? multipartStatus[code] : undefined;
  if (known) return new ServeError(known[0], known[1], known[2](limits));
  if (error instanceof Error && /Unexpected end of form|Malformed part header|Multipart: Boundary not found/i.test(error.message)) {
    return new ServeError(400, 'bad-form', `the multipart body is malformed (${error.message})`);
  }
  return error;
}

export async function readUploads(request: FastifyRequest, limits: UploadLimits): Promise<Upload[]> {
  if (!request.isMultipart()) throw new ServeError(415, 'not-multipart', 'send images as multipart/form-data, one "image" part per file');
  const uploads: Upload[] = [];
  try {
    for await (const part of request.parts()) {
      if (part.type !== 'file') continue;
      const name = checkFileName(part.filename ?? '');
      const type = part.mimetype.toLowerCase();
      if (!ACCEPTED_IMAGE_TYPES.includes(type)) {
        part.file.resume();
        throw new ServeError(415, 'unsupported-content-type', `"${name}" is sent as ${type}; accepted: ${ACCEPTED_IMAGE_TYPES.join(', ')}`);
      }
      uploads.push({ name, bytes: await part.toBuffer() });
    }
  } catch (error) {
    throw asServeError(error, limits);
  }
  if (uploads.length === 0) throw new ServeError(400, 'no-images', 'the request has no image files; send one or more "image" parts');
  return uploads;
}
