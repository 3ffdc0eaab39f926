import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { createServer, isLoopback, serveDefaults, type Server } from '../../serve/index.js';
import { intIn, threadCount } from '../parse-options.js';

const cores = availableParallelism();

/** What a failed listen means for the person who typed the command. */
function listenFailure(error: unknown, host: string, port: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE') return `port ${port} on ${host} is already in use by another program: stop it, or choose another --port (0 picks a free one)`;
  if (code === 'EACCES') return `port ${port} needs administrator rights: choose a --port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `--host ${host} is not an address of this machine`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `--host ${host} is not a name this machine can resolve`;
  return `cannot listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`;
}

interface ServeCliOptions { port: number; host: string; device: string; workers: number; threads?: number; maxQueue: number; maxFiles: number }

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('local web app and API: drop smear images of a case, see calibrated probabilities and attention overlays (images never leave this machine)')
    .argument('<run>', 'run folder made by "aplnet train"')
    .option('--port <n>', 'port (0 = any free port)', intIn('--port', 0, 65535, ' (0 picks a free port)'), 8080)
    .option('--host <host>', 'interface to listen on; anything but loopback exposes the app to your network', serveDefaults.host)
    .option('--device <device>', 'cpu, cuda or cuda:N', serveDefaults.device)
    .option('--workers <n>', 'inference worker threads, each with its own copy of the model', intIn('--workers', 1, 2 * cores, ` (twice the ${cores} CPU cores of this machine)`), serveDefaults.workers)
    .option('--threads <n>', 'CPU threads per worker (default: libtorch\'s choice)', threadCount('--threads'))
    .option('--max-queue <n>', 'requests that may wait for a worker before others get 503', intIn('--max-queue', 0, 1000), serveDefaults.maxQueue)
    .option('--max-files <n>', 'images per request', intIn('--max-files', 1, 1000), serveDefaults.maxFiles)
    .action(async (runDir: string, o: ServeCliOptions) => {
      if (!isLoopback(o.host)) {
        console.warn(
          `\n  WARNING: listening on ${o.host}, not loopback. Anyone who can reach this machine on that network can\n` +
          '  upload images and read predictions; there is no login and no encryption (plain HTTP).\n' +
          '  Use this only on a network you trust, or keep the default --host 127.0.0.1.\n',
        );
      }
      let server: Server;
      try {
        server = await createServer({ runDir, host: o.host, device: o.device, workers: o.workers, threads: o.threads, maxQueue: o.maxQueue, maxFiles: o.maxFiles });
      } catch (error) {
        throw new Error(`cannot serve ${runDir}: ${error instanceof Error ? error.message : String(error)}`);
      }
      let address: string;
      try {
        address = await server.listen(o.port);
      } catch (error) {
        // The workers hold the process open: without closing them a failed start never exits.
        await server.close();
        throw new Error(listenFailure(error, o.host, o.port));
      }
      console.log(`aplnet serve: ${server.info.name} (${server.info.classes.length} classes) at ${address.replace('[::1]', 'localhost')}/`);
      console.log('press Ctrl+C to stop');
      const stop = (): void => {
        server.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
