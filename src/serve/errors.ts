// Every refusal the API makes: an HTTP status, a stable code for programs and a message for people.

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

/** Decoding failures (DataError reasons) as HTTP statuses. */
export function statusOfImageReason(reason: string): number {
  if (reason === 'not-an-image') return 415;
  if (reason === 'too-large') return 413;
  return 422;
}
