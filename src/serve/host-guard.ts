// DNS rebinding protection. A page on evil.example can make its own name resolve to 127.0.0.1 and
// then read this server as if it were same-origin; the one thing it cannot change is the Host
// header, which still says evil.example. So every request must name this server by a name it is
// bound to (loopback names, the --host given, or, for a wildcard --host, this machine's addresses
// and host name) with the port it listens on; and a browser request that carries an Origin must
// come from such an origin. Clients without an Origin (curl, Python) are not browsers and pass.
import { networkInterfaces, hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServeError } from './errors.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

/** A host name or address as compared: lower case, no trailing dot, IPv6 without brackets. */
const normalize = (name: string): string => name.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');

export function isLoopback(host: string): boolean {
  const name = normalize(host);
  return LOOPBACK_NAMES.includes(name) || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** The names a client may use for a server started with `--host host`. */
export function allowedHostNames(host: string): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  const bound = normalize(host);
  if (WILDCARDS.has(bound)) {
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(normalize(a.address.replace(/%.*$/, '')));
    names.add(normalize(hostname()));
  } else {
    names.add(bound);
  }
  return names;
}

/** Splits "name:port", "[v6]:port" or "name" (port 80 implied by http). Null when unparsable. */
export function parseHost(value: string): { name: string; port: number } | null {
  const match = /^(\[[0-9a-fA-F:.]+(?:%[\w.-]+)?\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!match) return null;
  const port = match[2] === undefined ? 80 : Number(match[2]);
  return port > 65535 ? null : { name: normalize(match[1]), port };
}

const display = (name: string, port: number): string => `${name.includes(':') ? `[${name}]` : name}:${port}`;

/**
 * Adds the check to every request, page and API alike. `port()` is the port the server listens
 * on, or null before it listens (in-process inject(), which no browser can reach): then only the
 * name is checked.
 */
export function installHostGuard(app: FastifyInstance, host: string, port: () => number | null): void {
  const names = allowedHostNames(host);
  const accepted = (value: { name: string; port: number } | null): boolean => {
    const listening = port();
    return value !== null && names.has(value.name) && (listening === null || value.port === listening);
  };
  const expected = (): string => {
    const listening = port() ?? 80;
    return [...names].slice(0, 6).map((n) => display(n, listening)).join(', ') + (names.size > 6 ? ', …' : '');
  };

  app.addHook('onRequest', async (request: FastifyRequest, _reply: FastifyReply) => {
    const hostHeader = request.headers.host ?? '';
    if (!accepted(parseHost(hostHeader))) {
      throw new ServeError(421, 'wrong-host',
        `this aplnet server answers only to ${expected()}; the request was addressed to "${hostHeader}". ` +
        'If you typed that address, use one of those instead (or start aplnet serve with --host set to the name you use); ' +
        'if a web page sent it, it was blocked on purpose (DNS rebinding protection).');
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    let originHost: { name: string; port: number } | null = null;
    try {
      const url = new URL(origin);
      if (url.protocol === 'http:') originHost = parseHost(url.host);
    } catch {
      originHost = null;
    }
    if (!accepted(originHost)) {
      throw new ServeError(403, 'cross-origin',
        `requests from the web page at "${origin}" are refused: only this server's own page (${expected()}) may use its API`);
    }
  });
}
