// The server as a network service, over real sockets: who may talk to it (Host, Origin), what it
// refuses before reading an upload (size, busy), malformed bodies, wrong methods, and clients that
// stall. Each of these was a defect found by probing the running app (issue 9, item 8).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { createServer, type Server } from '../src/serve/server.js';
import { RawClient, send } from './serve-http-client.js';
import { multipart } from './serve-multipart.js';
import { trainTinyRun, type TinyRun } from './serve-fixtures.js';

const limits = { maxFiles: 4, maxFileBytes: 2_000_000, maxRequestBytes: 3_000_000, maxInputPixels: 1_000_000, workers: 1, maxQueue: 0, threads: 2 };

describe('aplnet serve over HTTP', () => {
  let run: TinyRun;
  let server: Server;
  let port: number;
  let jpeg: Buffer;

  before(async () => {
    run = await trainTinyRun();
    server = await createServer({ runDir: run.runDir, ...limits, timeouts: { headersMs: 1000, requestMs: 1500 }, log: () => {} });
    port = Number(new URL(await server.listen(0)).port);
    jpeg = await readFile(run.sampleImage);
  });
  after(async () => {
    await server?.close();
    await run?.cleanup();
  });

  const predictBody = (...files: Buffer[]) => multipart(files.map((data, i) => ({ filename: `${i}.jpg`, type: 'image/jpeg', data })));
  const json = (body: string) => JSON.parse(body) as { error: { code: string; message: string } };

  test('Host must name this server with its port: loopback names pass, a rebinding name is a 421', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      assert.equal((await send(port, { path: '/api/model', headers: { host } })).status, 200, host);
    }
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1:${port + 1}`, `localhost.evil.example:${port}`]) {
      for (const path of ['/api/model', '/report', '/']) {
        const answer = await send(port, { path, headers: { host } });
        assert.equal(answer.status, 421, `${host} ${path}`);
        assert.equal(json(answer.body).error.code, 'wrong-host');
        assert.match(json(answer.body).error.message, /DNS rebinding/);
      }
    }
  });

  test('a browser request from another origin is a 403; the page\'s own origin and clients without Origin pass', async () => {
    const { payload, headers } = predictBody(jpeg);
    const foreign = await send(port, { method: 'POST', path: '/api/predict?overlays=none', headers: { ...headers, origin: 'http://evil.example' }, body: payload });
    assert.equal(foreign.status, 403, foreign.body);
    assert.match(json(foreign.body).error.message, /evil\.example/);
    for (const origin of ['null', `http://evil.example:${port}`, `https://localhost:${port}`]) {
      assert.equal((await send(port, { path: '/api/model', headers: { origin } })).status, 403, origin);
    }
    const own = await send(port, { method: 'POST', path: '/api/predict?overlays=none', headers: { ...headers, origin: `http://localhost:${port}` }, body: payload });
    assert.equal(own.status, 200, own.body);
    assert.equal((await send(port, { method: 'POST', path: '/api/predict?overlays=none', headers, body: payload })).status, 200, 'curl and python send no Origin');
  });

  test('a request whose Content-Length is over the cap is a 413 before a byte of its body is read', async () => {
    const client = await RawClient.open(port);
    await client.write(`POST /api/predict HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: multipart/form-data; boundary=x\r\ncontent-length: 800000000\r\n\r\n`);
    assert.equal(await client.waitForStatus(2000), 413);
    assert.match(client.received, /request-too-large/);
    assert.match(client.received, /at most 3 MB/);
    client.close();
  });

  test('a streamed (chunked) request over the cap is a 413 when it crosses it, though each file is allowed', async () => {
    const half = Buffer.concat([jpeg, Buffer.alloc(1_600_000 - jpeg.length)]);
    const { payload, headers } = predictBody(half, half);
    const chunks = Array.from({ length: Math.ceil(payload.length / 65536) }, (_, i) => payload.subarray(i * 65536, (i + 1) * 65536));
    const answer = await send(port, { method: 'POST', path: '/api/predict', headers, body: chunks });
    assert.equal(answer.status, 413, answer.body);
    assert.equal(json(answer.body).error.code, 'request-too-large');
  });

  test('a client that sends its whole body before reading still gets the 413 for a file too large', async () => {
    const big = Buffer.concat([jpeg, Buffer.alloc(limits.maxFileBytes + 100_000)]);
    const { payload, headers } = predictBody(big);
    const client = await RawClient.open(port);
    await client.write(`POST /api/predict HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${headers['content-type']}\r\ncontent-length: ${payload.length}\r\n\r\n`);
    const written = (async () => { for (let i = 0; i < payload.length; i += 16384) await client.write(payload.subarray(i, i + 16384)); })();
    const sent = await Promise.race([written.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))]);
    assert.ok(sent, 'the server kept reading (and dropping) the rest of the body');
    assert.equal(await client.waitForStatus(2000), 413);
    assert.match(client.received, /file-too-large/);
    client.close();
  });

  test('while all places are taken, a new request is a 503 before its body is read; then it is served', async () => {
    const { payload, headers } = predictBody(jpeg);
    const slow = await RawClient.open(port);
    await slow.write(`POST /api/predict?overlays=none HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${headers['content-type']}\r\ncontent-length: ${payload.length}\r\n\r\n`);
    await slow.write(payload.subarray(0, 100));
    await new Promise((r) => setTimeout(r, 100));
    const other = await RawClient.open(port);
    await other.write(`POST /api/predict HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${headers['content-type']}\r\ncontent-length: ${payload.length}\r\n\r\n`);
    assert.equal(await other.waitForStatus(2000), 503, 'refused from its headers alone');
    assert.match(other.received, /retry-after: 2/i);
    other.close();
    await slow.write(payload.subarray(100));
    assert.equal(await slow.waitForStatus(10_000), 200);
    slow.close();
    assert.equal((await send(port, { method: 'POST', path: '/api/predict?overlays=none', headers, body: payload })).status, 200);
  });

  test('an upload that stalls is cut off by the request timeout, and its place is given back', async () => {
    const { payload, headers } = predictBody(jpeg);
    const stalled = await RawClient.open(port);
    await stalled.write(`POST /api/predict HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: ${headers['content-type']}\r\ncontent-length: ${payload.length}\r\n\r\n`);
    await stalled.write(payload.subarray(0, 100));
    await Promise.race([stalled.closed, new Promise((r) => setTimeout(r, 5000))]);
    assert.ok(stalled.socket.destroyed, 'the server closed the stalled connection');
    assert.match(stalled.received, /^HTTP\/1\.1 408/);
    const silent = await RawClient.open(port);
    await Promise.race([silent.closed, new Promise((r) => setTimeout(r, 5000))]);
    assert.ok(silent.socket.destroyed, 'a connection that never sends its headers is closed too');
    assert.equal((await send(port, { method: 'POST', path: '/api/predict?overlays=none', headers, body: payload })).status, 200, 'the place was released');
  });

  test('a malformed multipart body or boundary is a 400 that says so, never a 500', async () => {
    const part = (b: string) => `--${b}\r\ncontent-disposition: form-data; name="image"; filename="a.jpg"\r\ncontent-type: image/jpeg\r\n\r\nxxxx\r\n--${b}--\r\n`;
    for (const [type, body] of [
      ['multipart/form-data; boundary=zzz', part('abc')],
      ['multipart/form-data; boundary=ü', part('ü')],
      ['multipart/form-data', part('abc')],
      ['multipart/form-data; boundary=abc', '--abc\r\ncontent-disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nxx'],
    ]) {
      const answer = await server.app.inject({ method: 'POST', url: '/api/predict', headers: { host: `localhost:${port}`, 'content-type': type }, payload: body });
      assert.equal(answer.statusCode, 400, `${type}: ${answer.body}`);
      assert.match(json(answer.body).error.message, /malformed|cut off|boundary/i);
    }
  });

  test('a known path asked with the wrong method is a 405 with Allow; an unknown path a 404', async () => {
    for (const [method, url, allow] of [['GET', '/api/predict', 'POST'], ['DELETE', '/api/predict', 'POST'], ['POST', '/api/model', 'GET, HEAD'], ['PUT', '/', 'GET, HEAD']] as const) {
      const answer = await server.app.inject({ method, url, headers: { host: `localhost:${port}` } });
      assert.equal(answer.statusCode, 405, `${method} ${url}`);
      assert.equal(answer.headers.allow, allow);
      assert.equal(answer.json().error.code, 'method-not-allowed');
    }
    assert.equal((await server.app.inject({ method: 'POST', url: '/api/nothing', headers: { host: `localhost:${port}` } })).statusCode, 404);
  });
});

describe('aplnet serve on a non-loopback --host', () => {
  const external = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  let run: TinyRun;
  let server: Server;
  let port: number;

  before(async () => {
    run = await trainTinyRun(4);
    server = await createServer({ runDir: run.runDir, host: '0.0.0.0', workers: 1, threads: 2, log: () => {} });
    port = Number(new URL(await server.listen(0)).port);
  });
  after(async () => {
    await server?.close();
    await run?.cleanup();
  });

  test('this machine\'s addresses and host name pass; other names are still refused', { skip: external ? false : 'no non-loopback IPv4 interface' }, async () => {
    const { hostname } = await import('node:os');
    for (const host of [`${external}:${port}`, `${hostname()}:${port}`, `localhost:${port}`]) {
      assert.equal((await send(port, { path: '/api/model', headers: { host } })).status, 200, host);
    }
    assert.equal((await send(port, { path: '/api/model', headers: { host: `evil.example:${port}`, origin: `http://${external}:${port}` } })).status, 421);
    assert.equal((await send(port, { path: '/api/model', headers: { host: `${external}:${port}`, origin: `http://${external}:${port}` } })).status, 200);
  });
});
