// The open case over HTTP (issue 12, must-have 5): images added in batches to a case kept on the
// server, a bad file skipped by name without losing the case, a reviewer's class recorded beside the
// model's call, renaming, the bounds that keep the store small, and the exports.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { createServer, type Server } from '../src/serve/server.js';
import { realImages } from './data-fixtures.js';
import { multipart, type Part } from './serve-multipart.js';
import { serveClasses, trainTinyRun, type TinyRun } from './serve-fixtures.js';

interface Cell { index: number; file: string; ok: boolean; group: string; predicted: string | null; confidence: number | null; review: { className: string } | null; reviewedClass: string | null; images: { input: string | null; maps: Record<string, string> }; reason: string | null }
interface Row { className: string; modelCount: number; reviewedCount: number }
interface View { caseId: string; cells: Cell[]; summary: { cells: number; failed: number; usable: number; call: unknown; refer: boolean; differential: { className: string; count: number }[] }; reviewed: { reviewed: number; reclassified: number; rows: Row[] } }

describe('aplnet serve: the open case', () => {
  let run: TinyRun;
  let server: Server;
  let images: Buffer[];
  const logLines: string[] = [];

  before(async () => {
    run = await trainTinyRun();
    server = await createServer({ runDir: run.runDir, maxFiles: 4, maxCellsPerCase: 9, maxCases: 2, workers: 1, threads: 2, log: (line) => logLines.push(line) });
    const paths = (await Promise.all(['neutrophil', 'basophil', 'lymphocyte', 'eosinophil'].map((c) => realImages(c, 3)))).flat();
    images = await Promise.all(paths.map((p) => readFile(p)));
  });
  after(async () => {
    await server?.close();
    await run?.cleanup();
  });

  const part = (filename: string, data: Buffer): Part => ({ filename, type: 'image/jpeg', data });
  const add = (caseId: string, parts: Part[], query = '?overlays=attention-pool') => server.app.inject({ method: 'POST', url: `/api/cases/${caseId}/cells${query}`, ...multipart(parts) });
  const view = async (caseId: string): Promise<View> => (await server.app.inject(`/api/cases/${caseId}`)).json();
  const review = (caseId: string, index: number | string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    server.app.inject({ method: 'PUT', url: `/api/cases/${caseId}/cells/${index}/review`, headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  const errorOf = (response: { statusCode: number; json(): unknown }, status: number, code: string): string => {
    const body = response.json() as { error: { code: string; message: string } };
    assert.equal(response.statusCode, status, JSON.stringify(body));
    assert.equal(body.error.code, code);
    return body.error.message;
  };

  test('images added in two batches make one case; each cell is served as a PNG with its map', async () => {
    const first = await add('LAB-001', images.slice(0, 3).map((d, i) => part(`a${i}.jpg`, d)));
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json().added, [0, 1, 2]);
    const second = (await add('LAB-001', images.slice(3, 6).map((d, i) => part(`b${i}.jpg`, d)))).json();
    assert.deepEqual(second.added, [3, 4, 5]);
    const c = await view('LAB-001');
    assert.equal(c.cells.length, 6);
    assert.deepEqual(c.cells.map((x) => x.file), ['a0.jpg', 'a1.jpg', 'a2.jpg', 'b0.jpg', 'b1.jpg', 'b2.jpg']);
    assert.equal(c.summary.cells, 6);
    assert.equal(c.summary.call, null, 'a cell-type run: the differential, no diagnosis');
    // The differential counts usable cells: read, and not set aside as unlike the training cells.
    for (const row of c.summary.differential) assert.equal(row.count, c.cells.filter((x) => x.ok && x.group !== 'out-of-distribution' && x.predicted === row.className).length);
    const png = await server.app.inject(c.cells[4].images.input!);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.equal(png.headers['cache-control'], 'no-store');
    assert.equal(png.headers['cross-origin-resource-policy'], 'same-origin', 'no other site may embed a patient\'s cell');
    assert.deepEqual([(await sharp(png.rawPayload).metadata()).width], [144]);
    const map = await server.app.inject(c.cells[4].images.maps['attention-pool']);
    assert.equal(map.statusCode, 200);
    errorOf(await server.app.inject('/api/cases/LAB-001/cells/4/maps/gradcam.png'), 404, 'no-such-map');
    errorOf(await server.app.inject('/api/cases/LAB-001/cells/99/input.png'), 404, 'no-such-cell');
    errorOf(await server.app.inject('/api/cases/LAB-001/cells/x1/input.png'), 400, 'bad-cell');
  });

  test('a bad file is skipped by name with the core\'s reason; the good ones join the case; a duplicate is not counted twice', async () => {
    const response = await add('LAB-002', [part('good.jpg', images[6]), part('notes.jpg', Buffer.from('patient list, not a picture')), part('again.jpg', images[6]), part('good.jpg', images[7])]);
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.deepEqual(body.added, [0, 2]);
    const skipped = Object.fromEntries(body.skipped.map((s: { name: string; reason: string; message: string }) => [s.name, s]));
    assert.equal(skipped['notes.jpg'].reason, 'not-an-image');
    assert.match(skipped['notes.jpg'].message, /^notes\.jpg: /, 'the file is named, not "<uploaded image>"');
    assert.equal(skipped['again.jpg'].reason, 'duplicate');
    assert.match(skipped['again.jpg'].message, /good\.jpg/);
    const c: View = body.case;
    assert.deepEqual(c.cells.map((x) => [x.file, x.ok]), [['good.jpg', true], ['notes.jpg', false], ['good.jpg (2)', true]], 'same name, other bytes: kept under a name of its own');
    assert.equal(c.summary.failed, 1, 'the unreadable file is counted against the case');
    assert.equal(c.cells[1].group, 'unreadable');
    errorOf(await review('LAB-002', 1, { className: 'basophil' }), 409, 'not-reviewable');
  });

  test('a reviewer\'s class is recorded beside the model\'s call: the reviewed count changes, the model\'s count does not', async () => {
    const before = await view('LAB-001');
    // Cells the model counts (a cell set aside as unlike the training cells counts only once reviewed).
    const counted = before.cells.filter((c) => c.group !== 'out-of-distribution');
    assert.ok(counted.length >= 3, `three counted cells to review (${before.cells.map((c) => c.group)})`);
    const [cell, second, third] = counted;
    const other = serveClasses.find((c) => c !== cell.predicted)!;
    const row = (v: { rows: Row[] }, name: string) => v.rows.find((r) => r.className === name)!;

    const confirmed = (await review('LAB-001', second.index, { className: second.predicted })).json();
    assert.equal(confirmed.reviewed.reclassified, 0);
    const answer = await review('LAB-001', cell.index, { className: other });
    assert.equal(answer.statusCode, 200, answer.body);
    const { cell: reviewed, reviewed: counts } = answer.json();
    assert.equal(reviewed.predicted, cell.predicted, 'the model\'s call is kept');
    assert.equal(reviewed.review.className, other);
    assert.equal(counts.reviewed, 2);
    assert.equal(counts.reclassified, 1);
    assert.equal(row(counts, other).reviewedCount, row(before.reviewed, other).reviewedCount + 1);
    assert.equal(row(counts, cell.predicted!).reviewedCount, row(before.reviewed, cell.predicted!).reviewedCount - 1);
    assert.equal(row(counts, other).modelCount, row(before.reviewed, other).modelCount);

    const debris = (await review('LAB-001', third.index, { className: 'not-a-cell' })).json();
    assert.equal(debris.cell.reviewedClass, null, 'debris is not counted');
    const undone = (await review('LAB-001', third.index, { className: null })).json();
    assert.equal(undone.cell.review, null);
    assert.equal(undone.cell.reviewedClass, third.predicted);
    assert.equal((await view('LAB-001')).cells[cell.index].review?.className, other, 'the review is kept with the case');
  });

  test('reviews are validated: the class, the cell, the body and its type', async () => {
    assert.match(errorOf(await review('LAB-001', 0, { className: 'blast' }), 400, 'bad-review-class'), /other-cell, not-a-cell/);
    errorOf(await review('LAB-001', 0, { className: 'basophil', extra: 1 }), 400, 'bad-body');
    errorOf(await review('LAB-001', 0, ['basophil']), 400, 'bad-body');
    errorOf(await review('LAB-001', 0, 'className=basophil', { 'content-type': 'text/plain' }), 415, 'not-json');
    errorOf(await review('LAB-001', 0, '', { 'content-type': 'application/json' }), 400, 'bad-body');
    errorOf(await review('LAB-001', 42, { className: 'basophil' }), 404, 'no-such-cell');
    errorOf(await review('NOPE-1', 0, { className: 'basophil' }), 404, 'no-such-case');
    const big = await review('LAB-001', 0, { className: 'x'.repeat(100_000) });
    assert.equal(big.statusCode, 413);
  });

  test('case ids are checked; a case is renamed, never onto another', async () => {
    for (const bad of ['.hidden', '-lead', 'a%2Fb', 'x'.repeat(65), 'sp%20ace']) {
      errorOf(await server.app.inject(`/api/cases/${bad}`), 400, 'bad-case-id');
    }
    errorOf(await add('.hidden', [part('a.jpg', images[0])]), 400, 'bad-case-id');
    const rename = (from: string, payload: unknown) => server.app.inject({ method: 'PATCH', url: `/api/cases/${from}`, payload: payload as object });
    assert.match(errorOf(await rename('LAB-001', { caseId: 'LAB-002' }), 409, 'case-exists'), /LAB-002/);
    errorOf(await rename('LAB-001', { caseId: 'bad id' }), 400, 'bad-case-id');
    const renamed = await rename('LAB-001', { caseId: 'ACC.2026-17' });
    assert.equal(renamed.statusCode, 200, renamed.body);
    assert.equal(renamed.json().caseId, 'ACC.2026-17');
    assert.match(renamed.json().cells[0].images.input, /^\/api\/cases\/ACC\.2026-17\/cells\/0\/input\.png$/);
    assert.match(errorOf(await server.app.inject('/api/cases/LAB-001'), 404, 'no-such-case'), /memory only/);
    const listed = (await server.app.inject('/api/cases')).json();
    assert.deepEqual(listed.cases.map((c: { caseId: string }) => c.caseId).sort(), ['ACC.2026-17', 'LAB-002']);
  });

  test('exports: JSON and CSV of calls and corrections, HTML with the original beside the overlay, all self-contained', async () => {
    await add('ACC.2026-17', [part('=1+1<b>.jpg', images[8])]);
    const json = await server.app.inject('/api/cases/ACC.2026-17/export.json');
    assert.equal(json.statusCode, 200);
    assert.equal(json.headers['content-disposition'], 'attachment; filename="aplnet-case-ACC.2026-17.json"');
    const exported = json.json();
    assert.equal(exported.format, 'aplnet-case/1');
    assert.equal(exported.caseId, 'ACC.2026-17');
    assert.equal(exported.cells.length, 7);
    const reclassified = exported.cells.find((c: Cell) => c.review && c.review.className !== c.predicted);
    assert.ok(reclassified?.predicted && reclassified.probabilities, 'the reclassified cell keeps the model\'s call beside the reviewer\'s');
    assert.equal('images' in exported.cells[0], false);
    assert.deepEqual(exported.summary.differential.map((d: { className: string }) => d.className), serveClasses);

    const csv = await server.app.inject('/api/cases/ACC.2026-17/export.csv');
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    const header = lines[0].split(',');
    assert.ok(['record', 'name', 'model_call', 'reviewer_class', 'ood_flagged', ...serveClasses.map((c) => `p_${c}`)].every((c) => header.includes(c)), header.join());
    assert.equal(lines.filter((l) => l.startsWith('case,')).length, 1);
    assert.equal(lines.filter((l) => l.startsWith('class,')).length, serveClasses.length + 1);
    const cellLines = lines.filter((l) => l.startsWith('cell,'));
    assert.equal(cellLines.length, 7);
    const row = cellLines.find((l) => l.split(',')[header.indexOf('name')] === reclassified.file)!.split(',');
    assert.equal(row[header.indexOf('model_call')], reclassified.predicted);
    assert.equal(row[header.indexOf('reviewer_class')], reclassified.review.className);
    assert.ok(csv.body.includes(',\'=1+1<b>.jpg,'), 'a formula-like file name stays text in a spreadsheet');

    const html = await server.app.inject('/api/cases/ACC.2026-17/export.html?overlay=attention-pool&opacity=0.5');
    assert.equal(html.statusCode, 200);
    assert.equal((html.body.match(/<div class="pair">/g) ?? []).length, 7);
    assert.match(html.body, /<img src="data:image\/png;base64,[^"]+" alt="[^"]*, original">/);
    assert.match(html.body, /opacity:0\.5/);
    assert.match(html.body, /Differential only/);
    assert.doesNotMatch(html.body, /src="(https?:|\/)|<script/, 'self-contained, no script');
    assert.ok(html.body.includes('=1+1&lt;b&gt;.jpg') && !html.body.includes('<b>.jpg'), 'file names are escaped');
    errorOf(await server.app.inject('/api/cases/ACC.2026-17/export.html?opacity=2'), 400, 'bad-opacity');
    errorOf(await server.app.inject('/api/cases/ACC.2026-17/export.html?overlay=lime'), 400, 'bad-overlays');
  });

  test('bounds: a case holds at most maxCellsPerCase images; past maxCases the least recently used case is closed', async () => {
    const full = (await add('ACC.2026-17', images.slice(9, 12).map((d, i) => part(`c${i}.jpg`, d)))).json();
    assert.deepEqual(full.added, [7, 8]);
    assert.deepEqual(full.skipped.map((s: { reason: string }) => s.reason), ['case-full']);
    errorOf(await add('ACC.2026-17', [part('late.jpg', images[11])]), 413, 'case-full');
    // LAB-002 was used least recently: a third case closes it, and asking for it says why.
    assert.equal((await add('LAB-003', [part('x.jpg', images[0])])).statusCode, 200);
    assert.match(errorOf(await server.app.inject('/api/cases/LAB-002'), 404, 'no-such-case'), /closed to make room/);
    assert.equal((await server.app.inject('/api/cases/ACC.2026-17')).statusCode, 200);
    const limits = (await server.app.inject('/api/limits')).json();
    assert.deepEqual(limits, { maxFiles: 4, maxFileBytes: 25_000_000, maxRequestBytes: 200_000_000, maxCases: 2, maxCellsPerCase: 9, maxFlaggedShare: 0.2 });
    const closed = await server.app.inject({ method: 'DELETE', url: '/api/cases/LAB-003' });
    assert.equal(closed.statusCode, 204);
    errorOf(await server.app.inject('/api/cases/LAB-003'), 404, 'no-such-case');
  });

  test('the case routes are guarded like the rest: another origin is refused; the API description lists them', async () => {
    const foreign = await server.app.inject({ method: 'PUT', url: '/api/cases/ACC.2026-17/cells/0/review', headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, payload: '{"className":null}' });
    errorOf(foreign, 403, 'cross-origin');
    const doc = (await server.app.inject('/api/openapi.json')).json();
    for (const path of ['/api/cases', '/api/cases/{caseId}', '/api/cases/{caseId}/cells', '/api/cases/{caseId}/cells/{index}/review', '/api/cases/{caseId}/export.csv', '/api/limits']) {
      assert.ok(doc.paths[path], path);
    }
  });

  test('the log holds counts and timings only, never a file name or a case id', () => {
    assert.ok(logLines.some((l) => l.startsWith('serve: case add')));
    for (const line of logLines) assert.doesNotMatch(line, /\.jpg|LAB-|ACC\./, line);
  });
});
