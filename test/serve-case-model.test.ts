// The open case on a run whose labels belong to the patient: the page's case call comes from the
// run's case model (named as such), although the server keeps calls and PNGs, not the pixels the
// case model would embed again: the worker attaches each cell's case embedding while it has them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, type Server } from '../src/serve/server.js';
import { aplnet, trainArgs } from './helpers/tiny-run.js';
import { multipart } from './serve-multipart.js';

const CASES_MANIFEST = fileURLToPath(new URL('../../../shared/data/pbc-cases/manifest.csv', import.meta.url));

let root: string;
let server: Server;
let testCase: string[];

/** Three train, one val and one test case per case class, six cells each, with absolute paths. */
function tinyCaseManifest(dir: string): { manifest: string; testCase: string[] } {
  const rows = readFileSync(CASES_MANIFEST, 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
  const wanted: Record<string, number> = { train: 3, val: 1, test: 1 };
  const casesOf = new Map<string, Set<string>>();
  const cells = new Map<string, string[][]>();
  for (const [path, label, patient, split] of rows) {
    const chosen = casesOf.get(`${label}/${split}`) ?? new Set<string>();
    if (!chosen.has(patient) && chosen.size >= wanted[split]) continue;
    chosen.add(patient);
    casesOf.set(`${label}/${split}`, chosen);
    const list = cells.get(patient) ?? [];
    if (list.length < 6) list.push([resolve(dirname(CASES_MANIFEST), path), label, patient, split]);
    cells.set(patient, list);
  }
  const all = [...cells.values()].flat();
  const manifest = join(dir, 'cases.csv');
  writeFileSync(manifest, ['path,label,patient_id,split', ...all.map((r) => r.join(','))].join('\n') + '\n');
  return { manifest, testCase: all.filter((r) => r[3] === 'test' && r[2] === all.find((t) => t[3] === 'test')![2]).map((r) => r[0]) };
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-serve-cases-'));
  const made = tinyCaseManifest(root);
  testCase = made.testCase;
  const run = join(root, 'run');
  const trained = aplnet(trainArgs(made.manifest, run, root, '--epochs', '1', '--size', '32'));
  assert.equal(trained.status, 0, trained.stderr);
  const caseModel = aplnet(['train-case', run, '--epochs', '2', '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache')]);
  assert.equal(caseModel.status, 0, caseModel.stderr);
  server = await createServer({ runDir: run, threads: 1, log: () => {} });
});
after(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

test('a case-level run: the case call comes from the case model, named, with a weight per cell; few cells refer the case', async () => {
  const parts = testCase.map((path) => ({ filename: path.split('/').pop()!, type: 'image/jpeg', data: readFileSync(path) }));
  const answer = await server.app.inject({ method: 'POST', url: '/api/cases/PAT-7/cells', ...multipart(parts) });
  assert.equal(answer.statusCode, 200, answer.body);
  const view = answer.json().case;
  const usable = view.cells.filter((c: { group: string; ok: boolean }) => c.ok && c.group !== 'out-of-distribution');
  assert.ok(usable.length > 0, `some cells are usable: ${view.cells.map((c: { group: string }) => c.group)}`);
  assert.equal(view.summary.call.source, 'case-model');
  assert.ok(['normal', 'left-shift', 'erythroblastic'].includes(view.summary.call.label));
  const weights = usable.map((c: { weight: number }) => c.weight);
  assert.ok(Math.abs(weights.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4, `attention weights over the usable cells sum to 1: ${weights}`);
  assert.equal(view.summary.refer, true, 'six cells are fewer than a case call needs');
  // Labels that belong to the patient: cells unsure on their own are counted but stay under their
  // call in the gallery (no "low confidence" group), and the flagged cells are the images set aside.
  assert.equal(view.summary.flagRule, 'set-aside');
  assert.equal(view.summary.flagged, view.cells.length - usable.length);
  assert.ok(!view.cells.some((c: { group: string }) => c.group === 'low-confidence'), `no low-confidence group: ${view.cells.map((c: { group: string }) => c.group)}`);
  assert.equal(view.summary.lowConfidence, usable.filter((c: { refer: boolean }) => c.refer).length);
  assert.ok(view.summary.call.threshold >= 0.7, 'the call is referred below the fitted case threshold, never below the run\'s');
  assert.ok(view.summary.referReasons.some((r: string) => /usable cell/.test(r)), view.summary.referReasons.join('; '));
  // The same summary after a reload of the page (the case read back, summary recomputed on rename).
  const renamed = await server.app.inject({ method: 'PATCH', url: '/api/cases/PAT-7', payload: { caseId: 'PAT-8' } });
  assert.equal(renamed.statusCode, 200, renamed.body);
  assert.deepEqual(renamed.json().summary.call.probabilities, view.summary.call.probabilities);
  const html = await server.app.inject('/api/cases/PAT-8/export.html');
  assert.match(html.body, /From the case model \(attention over the cells\)/);
});
