// The case summary through the real command line, on a tiny case-level run (a manifest whose patients
// each have one label): evaluate lists the test cases and draws them in the report, predict prints
// each case of a manifest or of --case, and writes them as JSON or CSV; wrong combinations are refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aplnet, PBC_DIR, TINY_CLASSES, trainArgs } from './helpers/tiny-run.js';

let root: string;
let manifest: string;
let run: string;

/** 12 images per class as three cases of four (train, val, test): every patient has one label. */
function caseManifest(): string {
  const lines = ['path,label,patient_id,split'];
  for (const name of TINY_CLASSES) {
    readdirSync(join(PBC_DIR, name)).sort().slice(0, 12).forEach((file, i) => {
      const index = Math.floor(i / 4);
      lines.push(`${join(PBC_DIR, name, file)},${name},${name}-${index},${['train', 'val', 'test'][index]}`);
    });
  }
  const path = join(root, 'manifest.csv');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-case-cli-'));
  manifest = caseManifest();
  run = join(root, 'run');
  const trained = aplnet(trainArgs(manifest, run, root, '--epochs', '1'));
  assert.equal(trained.status, 0, trained.stderr);
  const evaluated = aplnet(['evaluate', run, '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache')]);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  writeFileSync(join(root, 'evaluate.out'), evaluated.stdout);
});

after(() => rmSync(root, { recursive: true, force: true }));

test('evaluate lists every test case with its call against the truth, keeps them in case-summaries.json and draws them in the report', () => {
  const out = readFileSync(join(root, 'evaluate.out'), 'utf8');
  assert.match(out, /cases: 3, calls from the baseline: [^;]+; \d of 3 calls agree with the truth; \d referred \(case referral threshold \d+\.\d%, stated share of images set aside 20\.0%\); of the \d not referred, \d agree with the truth/);
  for (const name of TINY_CLASSES) assert.match(out, new RegExp(`${name}-2 +${name} +\\S+ +\\d+\\.\\d%`));
  const kept = JSON.parse(readFileSync(join(run, 'case-summaries.json'), 'utf8'));
  assert.equal(kept.split, 'test');
  assert.deepEqual(kept.cases.map((c: { summary: { caseId: string } }) => c.summary.caseId), TINY_CLASSES.map((name) => `${name}-2`));
  for (const c of kept.cases) {
    assert.equal(c.summary.cells, 4);
    assert.equal(c.truth, c.summary.caseId.replace(/-2$/, ''));
    // A one-epoch model's out-of-distribution check may set cells aside; whatever is left, four cells are too few.
    assert.equal(c.summary.refer, true, 'a call from 4 cells or fewer is always referred (fewer than the 10 a call needs)');
    if (c.summary.usable > 0) assert.ok(c.summary.referReasons.includes(`the call rests on ${c.summary.usable} usable cell(s); a case call needs at least 10`));
    else assert.equal(c.summary.call, null);
  }
  const html = readFileSync(join(run, 'report.html'), 'utf8');
  assert.match(html, /<a href="#cases">Cases<\/a>/);
  assert.equal((html.match(/<article class="case refer">/g) ?? []).length, 3);
});

test('predict on a manifest prints each case after the images and writes the summaries as JSON and as CSV', () => {
  const json = join(root, 'cases.json');
  const result = aplnet(['predict', run, manifest, '--split', 'test', '--case-out', json, '--threads', '1', '--min-cells', '4', '--max-flagged-share', '1']);
  assert.equal(result.status, 0, result.stderr);
  const blocks = result.stdout.split('\ncase ').slice(1);
  assert.equal(blocks.length, 3);
  assert.match(blocks[0], /^basophil-2: 4 image\(s\), \d usable.*\n  call: +(\S+ \d+\.\d% \(baseline: |none: no usable cells)/);
  assert.match(result.stdout, /differential: /);
  assert.match(result.stdout, /stated share 100\.0%/);
  const written = JSON.parse(readFileSync(json, 'utf8'));
  assert.equal(written.run, run);
  assert.equal(written.cases.length, 3);
  assert.ok(written.cases.every((c: { cells: number; usable: number; ranked: unknown[]; differential: unknown[] }) => c.cells === 4 && c.ranked.length === c.usable && c.differential.length === TINY_CLASSES.length));
  const csv = join(root, 'cases.csv');
  assert.equal(aplnet(['predict', run, manifest, '--split', 'test', '--case-out', csv, '--format', 'json', '--threads', '1']).status, 0);
  const [header, ...rows] = readFileSync(csv, 'utf8').trim().split('\n');
  assert.equal(header, `case_id,images,unreadable,out_of_distribution,usable,flag_rule,flagged,flagged_share,max_flagged_share,low_confidence,call,call_probability,call_source,call_threshold,refer,refer_reasons,${TINY_CLASSES.flatMap((c) => [`n_${c}`, `pct_${c}`]).join(',')}`);
  assert.equal(rows.length, 3);
  assert.match(rows[0], /^basophil-2,4,0,\d,\d,/);
});

test('predict --case makes the images given one case, an unreadable one counted in it', () => {
  const images = readdirSync(join(PBC_DIR, 'basophil')).sort().slice(0, 3).map((file) => join(PBC_DIR, 'basophil', file));
  const broken = join(root, 'broken.jpg');
  writeFileSync(broken, 'not an image');
  const result = aplnet(['predict', run, ...images, broken, '--case', 'patient 7', '--threads', '1']);
  assert.equal(result.status, 1, 'an unreadable image still makes the exit status 1');
  assert.match(result.stdout, /case patient 7: 4 image\(s\), \d usable \(1 unreadable/);
  assert.match(result.stdout, /review: +refer to a specialist: [1-4] of 4 images \(\d+\.0%\) were unreadable or unlike the training cells, above the stated share of 20\.0%|review: +refer to a specialist: no usable cells/);
});

test('case options out of place are refused before anything is predicted', () => {
  const image = join(PBC_DIR, 'basophil', readdirSync(join(PBC_DIR, 'basophil')).sort()[0]);
  const cases: Array<[string[], RegExp]> = [
    [[manifest, '--case', 'x'], /names its cases in its patient_id column/],
    [[image, '--split', 'test'], /--split chooses rows of a manifest/],
    [[image, '--case-out', join(root, 'c.json')], /--case-out writes case summaries; give --case <id> or a manifest/],
    [[image, '--case', 'x', '--case-out', join(root, 'c.txt')], /\.json or \.csv/],
    [[manifest, image], /give one CSV manifest/],
    [[image, '--case', 'x', '--max-flagged-share', '1.5'], /--max-flagged-share must be in \[0, 1\]/],
    [[image, '--case', 'x', '--min-cells', '0'], /--min-cells must be from 1/],
  ];
  for (const [args, message] of cases) {
    const result = aplnet(['predict', run, ...args]);
    assert.notEqual(result.status, 0, args.join(' '));
    assert.match(result.stderr, message, args.join(' '));
  }
});
