// `aplnet serve` as a user starts it, in a child process: every way it cannot start must end the
// process quickly with a non-zero exit and a message naming the problem. Before, a port in use or
// --port 70000 printed the error and hung (the inference workers kept the process alive),
// --workers 0 listened but never answered, and --threads 1000 was accepted (issue 9, item 6).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cp, writeFile } from 'node:fs/promises';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { cliPath, trainTinyRun, type TinyRun } from './serve-fixtures.js';

interface Exit { code: number | null; output: string; seconds: number }

/** Runs `aplnet serve …`; a process still running after `limitMs` is killed and reported with code null. */
function serve(args: string[], limitMs = 15_000): Promise<Exit> {
  const started = performance.now();
  const child = spawn(process.execPath, [cliPath, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => child.on('exit', (code) => {
    clearTimeout(timer);
    resolve({ code, output, seconds: (performance.now() - started) / 1000 });
  }));
}

function assertRefused(exit: Exit, message: RegExp): void {
  assert.notEqual(exit.code, null, `still running after ${exit.seconds.toFixed(1)} s: ${exit.output}`);
  assert.notEqual(exit.code, 0, exit.output);
  assert.match(exit.output, message);
  assert.ok(exit.seconds < 10, `took ${exit.seconds.toFixed(1)} s`);
}

describe('aplnet serve refuses to start, and exits, when it cannot serve', () => {
  let run: TinyRun;
  let occupied: TcpServer;
  let busyPort: number;

  before(async () => {
    run = await trainTinyRun(4);
    occupied = createTcpServer();
    await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
    busyPort = (occupied.address() as { port: number }).port;
  });
  after(async () => {
    await new Promise((resolve) => occupied?.close(resolve));
    await run?.cleanup();
  });

  test('a port in use: exits 1 naming the port, after closing its workers', async () => {
    assertRefused(await serve([run.runDir, '--port', String(busyPort), '--threads', '1']), new RegExp(`port ${busyPort} .*already in use.*--port`));
  });

  test('out-of-range numbers are refused as the command is parsed, saying the allowed range', async () => {
    const cores = availableParallelism();
    for (const [option, value, range] of [
      ['--port', '70000', 'from 0 to 65535'],
      ['--port', '-1', 'from 0 to 65535'],
      ['--workers', '0', `from 1 to ${2 * cores}`],
      ['--threads', '1000', `from 1 to ${cores}`],
      ['--threads', '0', `from 1 to ${cores}`],
      ['--max-queue', '-1', 'from 0 to 1000'],
      ['--max-files', '0', 'from 1 to 1000'],
    ]) {
      assertRefused(await serve([run.runDir, option, value]), new RegExp(`${option} must be ${range}.*got ${value}`));
    }
  });

  test('a run folder that does not load is refused, not served half-broken', async () => {
    const broken = join(run.runDir, '..', 'broken-run');
    await cp(run.runDir, broken, { recursive: true });
    await writeFile(join(broken, 'model.safetensors'), Buffer.from('not weights'));
    assertRefused(await serve([broken, '--port', '0', '--threads', '1']), /cannot serve .*broken-run.*model\.safetensors/);
    assertRefused(await serve([join(run.runDir, '..', 'no-such-run'), '--port', '0']), /cannot serve .*no-such-run.*config\.json/);
  });

  test('a --host that is not this machine\'s: exits 1 saying so', async () => {
    assertRefused(await serve([run.runDir, '--host', '192.0.2.254', '--port', '0', '--threads', '1']), /--host 192\.0\.2\.254 is not an address of this machine/);
  });
});
