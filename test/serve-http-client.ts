// Talking to a listening server the way real clients do, including the ways inject() cannot: any
// Host header, a body that stalls or arrives after the answer, a client that writes its whole body
// before it reads (Python's requests does).
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node:http; `body` may be a Buffer or a list of chunks written as they come (then chunked, with no Content-Length). */
export function send(port: number, options: { method?: string; path?: string; headers?: Record<string, string | number>; body?: Buffer | Buffer[] }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path ?? '/', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (Array.isArray(options.body)) for (const chunk of options.body) req.write(chunk);
    else if (options.body) req.write(options.body);
    req.end();
  });
}

/** A raw socket: write bytes now, more later, and read whatever comes back until the server closes or `untilMs`. */
export class RawClient {
  readonly socket: Socket;
  received = '';
  readonly closed: Promise<void>;

  private constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (c: Buffer) => { this.received += c.toString('latin1'); });
    this.socket.on('error', () => {});
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  static async open(port: number): Promise<RawClient> {
    const client = new RawClient(port);
    await new Promise((resolve) => client.socket.once('connect', resolve));
    return client;
  }

  /** Writes and waits until the kernel took the bytes, as a blocking client would: never resolves if the server stops reading. */
  write(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.write(data)) resolve();
      else this.socket.once('drain', () => resolve());
    });
  }

  get status(): number | null {
    const match = /^HTTP\/1\.1 (\d{3})/.exec(this.received);
    return match ? Number(match[1]) : null;
  }

  /** Resolves when an answer's status line arrived, or with null after `ms`. */
  async waitForStatus(ms: number): Promise<number | null> {
    const end = Date.now() + ms;
    while (this.status === null && Date.now() < end && !this.socket.destroyed) await new Promise((r) => setTimeout(r, 20));
    return this.status;
  }

  close(): void {
    this.socket.destroy();
  }
}
