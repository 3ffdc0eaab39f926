import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { createServer, type Server } from '../src/serve/server.js';
import { loadRun, predictImages } from '../src/run/index.js';
import { describeFraming } from '../src/data/preprocessing.js';
import { realImages } from './data-fixtures.js';
import { multipart, type Part } from './serve-multipart.js';
import { cliPath, serveClasses, trainTinyRun, type TinyRun } from './serve-fixtures.js';

const limits = { maxFiles: 4, maxFileBytes: 2_000_000, maxInputPixels: 1_000_000, maxQueue: 1, workers: 1, threads: 2 };

describe('aplnet serve API', () => {
  let run: TinyRun;
  let server: Server;
  let jpeg: Buffer;
  const logLines: string[] = [];

  before(async () => {
    run = await trainTinyRun();
    // A run as users have it after `aplnet evaluate`: metrics.json and report.html, which name the run and data folders by absolute path.
    await promisify(execFile)(process.execPath, [cliPath, 'evaluate', run.runDir, '--device', 'cpu'], { timeout: 120_000 });
    server = await createServer({ runDir: run.runDir, ...limits, log: (line) => logLines.push(line) });
    jpeg = await readFile(run.sampleImage);
  });
  after(async () => {
    await server?.close();
    await run?.cleanup();
  });

  const post = (parts: Part[], query = '') => server.app.inject({ method: 'POST', url: `/api/predict${query}`, ...multipart(parts) });
  /** type null: a part with no Content-Type line at all. */
  const image = (filename = 'cell.jpg', data: Buffer = jpeg, type: string | null = 'image/jpeg'): Part => ({ filename, type: type ?? undefined, data });

  async function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string): Promise<{ message: string; files?: { index: number; name: string; reason: string }[] }> {
    const body = response.json() as { error: { code: string; message: string; files?: { index: number; name: string; reason: string }[] } };
    assert.equal(response.statusCode, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    assert.ok(body.error.message.length > 10, 'the message says what is wrong');
    return body.error;
  }

  test('GET /api/model is the model card: what a user of the page needs, and no path of this machine', async () => {
    const model = (await server.app.inject('/api/model')).json();
    assert.deepEqual(Object.keys(model).sort(), ['aplnetVersion', 'calibration', 'classes', 'createdAt', 'defaultMaps', 'framing', 'hasReport', 'inputSize', 'intendedUse', 'metrics', 'name']);
    assert.equal(model.name, 'aplnet-s-ap');
    assert.deepEqual(model.classes, serveClasses);
    assert.equal(model.inputSize, 144);
    assert.equal(model.framing, 'the centre square of each image (its shorter side), scaled to 144×144 px');
    assert.equal(describeFraming({ size: 144, resize: 'center-crop', zoom: 1.5 }), "the middle 67% of each image's shorter side (zoom 1.5), scaled to 144×144 px: the cell must be centred in the image");
    assert.equal(describeFraming({ size: 96, resize: 'letterbox' }), 'the whole image, padded to a square, scaled to 96×96 px');
    assert.ok(model.calibration.referralThreshold > 0);
    // The model card's Metrics row (defect 9): evaluate's headline figures with their intervals.
    assert.match(model.metrics.accuracy, /^\d+\.\d% \(95% CI \d+\.\d–\d+\.\d\)$/);
    assert.ok('ECE' in model.metrics && 'macro-F1' in model.metrics, JSON.stringify(model.metrics));
  });

  test('nothing the server returns names a folder of this machine (run, training data, cache)', async () => {
    const root = dirname(run.runDir);
    const { payload, headers } = multipart([image()]);
    const answers = await Promise.all([
      ...['/api/model', '/api/openapi.json', '/api/health', '/report', '/'].map((url) => server.app.inject(url)),
      server.app.inject({ method: 'POST', url: '/api/predict?overlays=none', payload, headers }),
      post([image('notes.png', Buffer.from('not a picture'))]),
    ]);
    assert.equal(answers[3].statusCode, 200, 'the run has a report');
    for (const answer of answers) assert.ok(!answer.body.includes(root), `${answer.body.slice(0, 200)} names ${root}`);
  });

  test('/api/openapi.json documents the API', async () => {
    const doc = (await server.app.inject('/api/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/predict'].post.responses['503']);
    assert.ok(doc.paths['/api/model'].get);
  });

  test('the page and its assets are served with a strict content security policy', async () => {
    const page = await server.app.inject('/');
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.match(page.headers['content-security-policy'] as string, /default-src 'self'/);
    assert.match(page.body, /<script type="module" src="\/app.js">/);
    assert.doesNotMatch(page.body, /https?:\/\//, 'no CDN: works offline');
    for (const asset of ['/app.js', '/app.css']) assert.equal((await server.app.inject(asset)).statusCode, 200, asset);
    await expectError(await server.app.inject('/../../etc/passwd'), 404, 'not-found');
  });

  test('one image: calibrated probabilities of every class, overlays as PNG data URLs, a referral flag', async () => {
    const response = await post([image()]);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.images.length, 1);
    const [result] = body.images;
    assert.deepEqual(Object.keys(result.probabilities), serveClasses);
    const values = Object.values(result.probabilities) as number[];
    assert.ok(Math.abs(values.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.equal(result.confidence, Math.max(...values));
    assert.equal(result.refer, result.confidence < body.referralThreshold);
    assert.deepEqual(Object.keys(result.heatmaps), ['evidence', 'gradcam']); // the default preset's own map, and Grad-CAM
    for (const url of [result.input, ...Object.values(result.heatmaps) as string[]]) {
      assert.match(url, /^data:image\/png;base64,/);
      const meta = await sharp(Buffer.from(url.split(',')[1], 'base64')).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['png', 144, 144]);
    }
    assert.equal(body.case.cells, 1);
    assert.equal('embedding' in result, false, 'the embedding is for case models, not sent');
    // The worker lays its network out channels-last (faster on CPU): the call is predict's, to float rounding.
    const cli = await loadRun(run.runDir, { device: 'cpu' });
    try {
      const [direct] = await predictImages(cli, [run.sampleImage]);
      assert.ok(direct.ok);
      for (const name of serveClasses) assert.ok(Math.abs(direct.probabilities[name] - result.probabilities[name]) < 1e-5, `p(${name}): ${direct.probabilities[name]} by predict, ${result.probabilities[name]} by the page`);
    } finally {
      cli.model.dispose();
    }
  });

  test('many images form one case: THE case summary (src/run), a differential of a cell-type run and no diagnosis', async () => {
    const others = await Promise.all(['basophil', 'lymphocyte'].map(async (c) => readFile((await realImages(c, 12))[11])));
    const response = await post([image('a.jpg'), image('b.jpg', others[0]), image('c.jpg', others[1])], '?overlays=attention');
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.images.length, 3);
    assert.equal(body.case.call, null, 'a run of cell types makes no case call');
    assert.equal(body.case.cells, 3);
    assert.deepEqual(body.case.differential.map((d: { className: string }) => d.className), serveClasses);
    for (const row of body.case.differential) {
      assert.equal(row.count, body.images.filter((i: { predicted: string; ood?: { flagged: boolean } }) => !i.ood?.flagged && i.predicted === row.className).length);
    }
    assert.equal(body.case.maxFlaggedShare, 0.2);
    assert.equal(body.case.flagged, body.images.filter((i: { refer: boolean; ood?: { flagged: boolean } }) => !i.ood?.flagged && i.refer).length);
    // More flagged cells than the stated share refer the case, call or no call.
    assert.equal(body.case.refer, body.case.flaggedShare > 0.2);
    // Ranked: the usable cells (an image the OOD check sets aside weighs nothing in the case).
    const usable = body.images.filter((i: { ood?: { flagged: boolean } }) => !i.ood?.flagged).map((i: { file: string }) => i.file);
    assert.deepEqual(body.case.ranked.map((r: { file: string }) => r.file).sort(), usable.sort());
    assert.equal(body.case.usable, usable.length);
    assert.deepEqual(Object.keys(body.images[0].heatmaps), ['attention']);
  });

  test('overlays can be turned off; an unknown overlay method is a 400', async () => {
    const none = await post([image()], '?overlays=none');
    assert.deepEqual(none.json().images[0].heatmaps, {});
    const error = await expectError(await post([image()], '?overlays=lime'), 400, 'bad-overlays');
    assert.match(error.message, /lime/);
  });

  test('a file that is not an image is a 415 naming the file', async () => {
    const error = await expectError(await post([image('notes.png', Buffer.from('patient list, not a picture'), 'image/png')]), 415, 'not-an-image');
    assert.equal(error.files?.[0].name, 'notes.png');
    assert.match(error.message, /notes\.png/);
  });

  test('a corrupt or truncated image is a 422, and one bad file in a case names that file', async () => {
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const error = await expectError(await post([image('good.jpg'), image('half.jpg', truncated)]), 422, 'truncated');
    assert.deepEqual(error.files?.map((f) => f.name), ['half.jpg']);
    const garbage = Buffer.concat([jpeg.subarray(0, 200), Buffer.alloc(3000, 0x5a)]);
    const corrupt = await post([image('garbage.jpg', garbage)]);
    assert.equal(corrupt.statusCode, 422, corrupt.body);
  });

  test('an image too small to classify is a 422', async () => {
    const tiny = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#c8a0b4' } }).png().toBuffer();
    await expectError(await post([image('tiny.png', tiny, 'image/png')]), 422, 'too-small');
  });

  test('oversized files and pixel counts are 413s', async () => {
    const big = Buffer.concat([jpeg, Buffer.alloc(limits.maxFileBytes, 0)]);
    await expectError(await post([image('big.jpg', big)]), 413, 'file-too-large');
    // A small PNG file that decodes to more pixels than allowed: refused from its header, before decoding.
    const bomb = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#ffffff' } }).png().toBuffer();
    assert.ok(bomb.length < limits.maxFileBytes);
    const error = await expectError(await post([image('bomb.png', bomb, 'image/png')]), 413, 'too-large');
    assert.match(error.message, /pixels/);
  });

  test('too many files is a 413; no files is a 400', async () => {
    const error = await expectError(await post(Array.from({ length: limits.maxFiles + 1 }, (_, i) => image(`${i}.jpg`))), 413, 'too-many-files');
    assert.match(error.message, /at most 4/);
    await expectError(await post([{ name: 'note', data: 'hello' }]), 400, 'no-images');
  });

  test('an image part is judged by its bytes, whatever Content-Type it was sent with (python requests: octet-stream)', async () => {
    for (const type of ['application/octet-stream', null, 'text/plain', 'image/png']) {
      const response = await post([image('cell.jpg', jpeg, type)], '?overlays=none');
      assert.equal(response.statusCode, 200, `${type}: ${response.body}`);
    }
    const error = await expectError(await post([image('good.jpg'), image('list.csv', Buffer.from('id,name\n1,x\n'), 'application/octet-stream')]), 415, 'not-an-image');
    assert.deepEqual(error.files?.map((f) => [f.index, f.name]), [[1, 'list.csv']]);
    assert.match(error.message, /list\.csv/);
  });

  test('bodies that are not multipart are 415s: a JSON body, a raw image body', async () => {
    await expectError(await server.app.inject({ method: 'POST', url: '/api/predict', payload: { image: 'x' } }), 415, 'not-multipart');
    await expectError(await server.app.inject({ method: 'POST', url: '/api/predict', headers: { 'content-type': 'image/jpeg' }, payload: jpeg }), 415, 'not-multipart');
  });

  test('file names that are paths or carry control characters are 400s; unicode names are fine', async () => {
    for (const name of ['../../etc/passwd.jpg', '..\\..\\boot.ini.jpg', '/abs/cell.jpg', 'cell\u0007.jpg', 'cell\u202egpj.exe', '']) {
      await expectError(await post([image(name)]), 400, 'bad-file-name');
    }
    const unicode = 'Zelle_ü_血球_🩸.jpg';
    const response = await post([image(unicode)], '?overlays=none');
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().images[0].file, unicode);
  });

  test('beyond the queue bound requests get 503 JSON; the server keeps answering and does not crash', async () => {
    const burst = await Promise.all([
      ...Array.from({ length: 6 }, () => post([image(), image()], '?overlays=attention')),
      server.app.inject('/api/health'),
    ]);
    const health = burst.pop()!;
    assert.equal(health.statusCode, 200);
    const statuses = burst.map((r) => r.statusCode);
    assert.ok(statuses.includes(503), `expected some 503s, got ${statuses}`);
    assert.ok(statuses.includes(200), `expected some 200s, got ${statuses}`);
    for (const r of burst.filter((r) => r.statusCode === 503)) {
      assert.equal(r.json().error.code, 'busy');
      assert.equal(r.headers['retry-after'], '2');
    }
    assert.equal((await post([image()], '?overlays=none')).statusCode, 200, 'serves again after the burst');
  });

  test('the log holds counts and timings only, never a file name', () => {
    assert.ok(logLines.length > 5);
    for (const line of logLines) {
      assert.doesNotMatch(line, /\.jpg|\.png|Zelle|passwd|notes/, line);
      assert.match(line, /^serve: /);
    }
  });
});
