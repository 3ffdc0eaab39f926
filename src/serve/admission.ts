// Admission of predict requests BEFORE their bodies are read. Uploads are held in memory, so the
// limit that protects the machine must be decided from the headers: a request either gets a place
// (one of workers + maxQueue) and a share of the upload-memory budget up front, or is refused while
// its body is still on the wire. Checking the queue after buffering let one request of 32 × 24 MB
// take the server to 2.8 GB.
import { ServeError } from './errors.js';

export interface AdmissionLimits {
  /** Requests being uploaded, queued or run at once: the workers plus the queue behind them. */
  places: number;
  /** The most one request's body may hold, all its files together. */
  maxRequestBytes: number;
  /** The most the bodies of all admitted requests may hold together. */
  maxBufferedBytes: number;
}

export interface Ticket {
  /** Gives the place and the reserved bytes back; safe to call more than once. */
  release(): void;
}

const mb = (bytes: number): string => `${Math.round(bytes / 1e6)} MB`;

export class Admission {
  private admitted = 0;
  private reservedBytes = 0;

  constructor(private readonly limits: AdmissionLimits) {
    if (limits.maxBufferedBytes < limits.maxRequestBytes) {
      throw new Error(`maxBufferedBytes (${limits.maxBufferedBytes}) must be at least maxRequestBytes (${limits.maxRequestBytes}), or no request of the allowed size could ever be admitted`);
    }
  }

  /** Requests admitted and not yet answered: being received, queued or analysed. */
  get inFlight(): number {
    return this.admitted;
  }

  /**
   * Reserves a place and the request's declared length (or the per-request cap when the client
   * streams without a Content-Length; the upload reader then enforces that cap as bytes arrive).
   */
  admit(contentLength: string | undefined): Ticket {
    const declared = contentLength === undefined ? undefined : Number(contentLength);
    if (declared !== undefined && !(Number.isSafeInteger(declared) && declared >= 0)) {
      throw new ServeError(400, 'bad-content-length', `the Content-Length header "${contentLength}" is not a byte count`);
    }
    if (declared !== undefined && declared > this.limits.maxRequestBytes) {
      throw new ServeError(413, 'request-too-large', `the request is ${mb(declared)}; at most ${mb(this.limits.maxRequestBytes)} of images can be sent at once: send fewer or smaller files (JPEG)`);
    }
    const bytes = declared ?? this.limits.maxRequestBytes;
    if (this.admitted >= this.limits.places || this.reservedBytes + bytes > this.limits.maxBufferedBytes) {
      throw new ServeError(503, 'busy', `the server is busy: ${this.admitted} request(s) are being received or analysed; try again in a moment`);
    }
    this.admitted += 1;
    this.reservedBytes += bytes;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.admitted -= 1;
        this.reservedBytes -= bytes;
      },
    };
  }
}
