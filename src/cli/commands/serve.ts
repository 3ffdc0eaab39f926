import type { Command } from 'commander';
import { createServer, serveDefaults } from '../../serve/server.js';
import { int } from '../parse-options.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('local web app and API: drop smear images of a case, see calibrated probabilities and attention overlays (images never leave this machine)')
    .argument('<run>', 'run folder made by "aplnet train"')
    .option('--port <n>', 'port (0 = any free port)', int('--port'), 8080)
    .option('--host <host>', 'interface to listen on; anything but loopback exposes the app to your network', '127.0.0.1')
    .option('--device <device>', 'cpu, cuda or cuda:N', serveDefaults.device)
    .option('--workers <n>', 'inference worker threads, each with its own copy of the model', int('--workers'), serveDefaults.workers)
    .option('--threads <n>', 'CPU threads per worker (default: libtorch\'s choice)', int('--threads'))
    .option('--max-queue <n>', 'requests that may wait for a worker before others get 503', int('--max-queue'), serveDefaults.maxQueue)
    .option('--max-files <n>', 'images per request', int('--max-files'), serveDefaults.maxFiles)
    .action(async (runDir: string, o: { port: number; host: string; device: string; workers: number; threads?: number; maxQueue: number; maxFiles: number }) => {
      if (!LOOPBACK.has(o.host)) {
        console.warn(
          `\n  WARNING: listening on ${o.host}, not loopback. Anyone who can reach this machine on that network can\n` +
          '  upload images and read predictions; there is no login and no encryption (plain HTTP).\n' +
          '  Use this only on a network you trust, or keep the default --host 127.0.0.1.\n',
        );
      }
      const server = await createServer({ runDir, device: o.device, workers: o.workers, threads: o.threads, maxQueue: o.maxQueue, maxFiles: o.maxFiles });
      const address = await server.app.listen({ port: o.port, host: o.host });
      console.log(`aplnet serve: ${server.info.name} (${server.info.classes.length} classes) at ${address.replace('[::1]', 'localhost')}/`);
      console.log('press Ctrl+C to stop');
      const stop = (): void => {
        server.close().then(() => process.exit(0), () => process.exit(1));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
