// `aplnet train-case` through the real command line on a tiny case-labelled manifest of real cells
// (a few pbc-cases cases, a few cells each, 32-pixel images): it trains from case labels only
// (the same bytes whether or not the manifest has a cell_type column), records the case level
// bound to the cell weights, and loadRun refuses a damaged or foreign case model by name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireRunLock } from '../src/io/index.js';
import { loadSafetensors, saveSafetensors } from '../src/torch/index.js';
import { evaluateCases, formatCaseEvaluation, loadRun, runPath } from '../src/run/index.js';
import { aplnet, trainArgs, trainTinyRunSync } from './helpers/tiny-run.js';

const CASES_MANIFEST = fileURLToPath(new URL('../../../shared/data/pbc-cases/manifest.csv', import.meta.url));
const CASES_DIR = dirname(CASES_MANIFEST);

let root: string;
let run: string;
let trainLog = '';
let withTypes: string;
let withoutTypes: string;

/** Four train, two val and one test case per class, six cells each, with absolute paths. */
function tinyCaseManifests(dir: string): { withTypes: string; withoutTypes: string } {
  const rows = readFileSync(CASES_MANIFEST, 'utf8').trim().split('\n').slice(1).map((line) => line.split(','));
  const wanted: Record<string, number> = { train: 4, val: 2, test: 1 };
  const picked = new Map<string, string[][]>();
  const perClassSplit = new Map<string, Set<string>>();
  for (const row of rows) {
    const [path, label, patient, split] = row;
    const key = `${label}/${split}`;
    const cases = perClassSplit.get(key) ?? new Set<string>();
    if (!cases.has(patient) && cases.size >= wanted[split]) continue;
    cases.add(patient);
    perClassSplit.set(key, cases);
    const cells = picked.get(patient) ?? [];
    if (cells.length < 6) cells.push([resolve(CASES_DIR, path), label, patient, split, row[4]]);
    picked.set(patient, cells);
  }
  const all = [...picked.values()].flat();
  const withTypes = join(dir, 'cases.csv');
  const withoutTypes = join(dir, 'cases-no-types.csv');
  writeFileSync(withTypes, ['path,label,patient_id,split,cell_type', ...all.map((r) => r.join(','))].join('\n') + '\n');
  writeFileSync(withoutTypes, ['path,label,patient_id,split', ...all.map((r) => r.slice(0, 4).join(','))].join('\n') + '\n');
  return { withTypes, withoutTypes };
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const caseArgs = (runDir: string, ...extra: string[]) => ['train-case', runDir, '--epochs', '6', '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache'), ...extra];

before(() => {
  root = mkdtempSync(join(tmpdir(), 'aplnet-cases-'));
  ({ withTypes, withoutTypes } = tinyCaseManifests(root));
  run = join(root, 'cell-run');
  const trained = aplnet(trainArgs(withTypes, run, root, '--epochs', '1', '--size', '32'));
  assert.equal(trained.status, 0, trained.stderr);
  trainLog = trained.stderr;
});
after(() => rmSync(root, { recursive: true, force: true }));

test('aplnet train records a case-level run with its validation-chosen baseline and no case model; without case-level.json loadRun gives caseLevel null', async () => {
  // Patient labels with the epoch kept by cell macro-F1 against them: train says so before it starts.
  assert.match(trainLog, /note: the labels of .* belong to the patients .* "--keep last --patience 0" keeps the end of the schedule/);
  assert.ok(trainLog.indexOf('belong to the patients') < trainLog.indexOf('epoch 1/1'), 'the note comes before training');
  const record = JSON.parse(readFileSync(runPath(run, 'caseLevel'), 'utf8'));
  assert.ok(['mean-probability', 'mean-log-probability', 'majority-vote'].includes(record.baseline), record.baseline);
  assert.equal(record.model, null);
  const trained = await loadRun(run, { calibration: 'optional' });
  try {
    // The baseline's case referral threshold is fitted on its validation-case calls, never below the run's own threshold.
    assert.match(record.baselineReferral.fittedOn, /calls of the 6 validation cases/);
    assert.ok(record.baselineReferral.threshold >= 0.7);
    assert.deepEqual(trained.caseLevel, { baseline: record.baseline, model: null, referral: record.baselineReferral });
  } finally {
    trained.model.dispose();
  }
  const bare = join(root, 'bare');
  cpSync(run, bare, { recursive: true });
  rmSync(runPath(bare, 'caseLevel'));
  const loaded = await loadRun(bare, { calibration: 'optional' });
  try {
    assert.equal(loaded.caseLevel, null);
  } finally {
    loaded.model.dispose();
  }
});

test('train-case trains from case labels, records the case level bound to the weights, and loadRun gives a working case model', async () => {
  const copy = join(root, 'trained');
  cpSync(run, copy, { recursive: true });
  const result = aplnet(caseArgs(copy));
  assert.equal(result.status, 0, result.stderr);
  // The default is cross-validated: the recipe (5 heads, seeds 0–4, each with its own best epoch)
  // trained once per fold over the 18 train and validation cases, every fold's heads kept in one file.
  assert.match(result.stdout, /case model \(frozen encoder, 5 folds × 5 heads\) trained on 18 cases \(train and validation, each held out once\)/);
  assert.match(result.stdout, /out-of-fold calls: 18, /);
  const record = JSON.parse(readFileSync(runPath(copy, 'caseLevel'), 'utf8'));
  assert.equal(record.model.folds, 5);
  assert.equal(record.model.heads, 25);
  assert.equal(record.model.trainCases, 18);
  assert.equal(record.model.validation.cases, 18, 'its scores are those of the out-of-fold calls');
  assert.equal(record.model.headBestEpochs.length, 25);
  assert.equal(record.model.bestEpoch, record.model.headBestEpochs[0]);
  assert.match(record.model.temperatureFittedOn, /out-of-fold calls/);
  const keys = Object.keys(JSON.parse(readFileSync(runPath(copy, 'caseModel')).subarray(8, 8 + Number(readFileSync(runPath(copy, 'caseModel')).readBigUInt64LE(0))).toString('utf8')));
  for (let k = 0; k < 25; k++) assert.ok(keys.includes(`mil.${k}.classifier.weight`), `head ${k} is in the file`);
  assert.deepEqual(record.caseClasses, ['erythroblastic', 'left-shift', 'normal']);
  assert.ok(['mean-probability', 'mean-log-probability', 'majority-vote'].includes(record.baseline));
  assert.equal(record.weightsSha256, sha(runPath(copy, 'bestWeights')));
  assert.equal(record.model.sha256, sha(runPath(copy, 'caseModel')));
  // The case call's referral threshold: fitted on out-of-fold calls of the 18 train and validation
  // cases (the recipe retrained 5 times), just above the surest wrong one and at least the run's 70%.
  const referral = record.model.referral;
  assert.match(referral.fittedOn, /out-of-fold calls of the 18 train and validation cases \(5 folds, seed 0\)/);
  assert.equal(referral.cases, 18);
  assert.ok(referral.threshold >= 0.7 && referral.threshold <= 1);
  if (referral.surestWrong !== null) assert.ok(referral.threshold > referral.surestWrong || referral.threshold === 1);
  assert.match(result.stderr, /case referral threshold \d+\.\d% \(\d+ of 18 calls wrong/);
  // The run is calibrated with test-time augmentation (train's default), so the case model is trained
  // on what the prediction core computes then: each cell's embedding averaged over its 8 views.
  assert.equal(JSON.parse(readFileSync(runPath(copy, 'calibration'), 'utf8')).tta, 'on');
  assert.equal(record.model.embeddingViews, 8);
  assert.match(result.stderr + result.stdout, /cells embedded \(each the mean of its 8 dihedral views\)/);
  assert.ok(!existsSync(join(copy, '.lock')), 'the run lock is released');
  const loaded = await loadRun(copy, { calibration: 'optional' });
  try {
    assert.ok(loaded.caseLevel?.model);
    assert.equal(loaded.caseLevel.model.embeddingViews, 8);
    assert.equal(loaded.caseLevel.baseline, record.baseline);
    assert.deepEqual(loaded.caseLevel.referral, referral, 'the call in use is the case model\'s, so its threshold is');
    const d = loaded.caseLevel.model.embeddingDim;
    const call = loaded.caseLevel.model.predict([new Float32Array(d).fill(0.1), new Float32Array(d).fill(0.3)]);
    assert.equal(call.weights.length, 2);
    assert.ok(Math.abs(call.weights[0] + call.weights[1] - 1) < 1e-6);
    assert.ok(loaded.classNames.includes(call.predicted));
  } finally {
    loaded.model.dispose();
    loaded.caseLevel?.model?.dispose();
  }
});

test('the trainer never reads cell_type: removing the column gives the same case model, byte for byte', () => {
  const a = join(root, 'with-types');
  const b = join(root, 'without-types');
  cpSync(run, a, { recursive: true });
  cpSync(run, b, { recursive: true });
  const first = aplnet(caseArgs(a, '--data', withTypes));
  assert.equal(first.status, 0, first.stderr);
  const second = aplnet(caseArgs(b, '--data', withoutTypes));
  assert.equal(second.status, 0, second.stderr);
  assert.equal(sha(runPath(a, 'caseModel')), sha(runPath(b, 'caseModel')));
  const recordA = JSON.parse(readFileSync(runPath(a, 'caseLevel'), 'utf8'));
  const recordB = JSON.parse(readFileSync(runPath(b, 'caseLevel'), 'utf8'));
  assert.deepEqual({ ...recordA.model, trainSeconds: 0, trainedAt: '' }, { ...recordB.model, trainSeconds: 0, trainedAt: '' });
});

test('loadRun refuses a damaged case model, a case level of other weights, and a missing case model file, naming the file', async () => {
  const base = join(root, 'trained');
  assert.ok(existsSync(runPath(base, 'caseModel')), 'needs the run trained by the test above');
  const damaged = join(root, 'damaged');
  cpSync(base, damaged, { recursive: true });
  const bytes = readFileSync(runPath(damaged, 'caseModel'));
  bytes[bytes.length - 3] ^= 0xff;
  writeFileSync(runPath(damaged, 'caseModel'), bytes);
  await assert.rejects(loadRun(damaged, { calibration: 'optional' }), /case-model\.safetensors does not match the digest recorded in .*case-level\.json.*aplnet train-case/);

  const foreign = join(root, 'foreign');
  cpSync(base, foreign, { recursive: true });
  const record = JSON.parse(readFileSync(runPath(foreign, 'caseLevel'), 'utf8'));
  writeFileSync(runPath(foreign, 'caseLevel'), JSON.stringify({ ...record, weightsSha256: 'a'.repeat(64) }));
  await assert.rejects(loadRun(foreign, { calibration: 'optional' }), /case-level\.json was made for other weights/);

  const missing = join(root, 'missing');
  cpSync(base, missing, { recursive: true });
  rmSync(runPath(missing, 'caseModel'));
  await assert.rejects(loadRun(missing, { calibration: 'optional' }), /case-model\.safetensors is missing/);

  const edited = join(root, 'edited');
  cpSync(base, edited, { recursive: true });
  writeFileSync(runPath(edited, 'caseLevel'), JSON.stringify({ ...record, baseline: 'median' }));
  await assert.rejects(loadRun(edited, { calibration: 'optional' }), /case-level\.json is not a valid case-level record \(baseline/);

  // The views the case model reads are bound to its file: a record edited to one view is refused.
  const views = join(root, 'views');
  cpSync(base, views, { recursive: true });
  writeFileSync(runPath(views, 'caseLevel'), JSON.stringify({ ...record, model: { ...record.model, embeddingViews: 1 } }));
  await assert.rejects(loadRun(views, { calibration: 'optional' }), /case-model\.safetensors's configuration differs from the one recorded in .*case-level\.json/);

  // A case referral threshold edited below the wrong call it was fitted above is refused, not used.
  if (record.model.referral.surestWrong !== null) {
    const lowered = join(root, 'lowered');
    cpSync(base, lowered, { recursive: true });
    writeFileSync(runPath(lowered, 'caseLevel'), JSON.stringify({ ...record, model: { ...record.model, referral: { ...record.model.referral, threshold: record.model.referral.surestWrong } } }));
    await assert.rejects(loadRun(lowered, { calibration: 'optional' }), /case-level\.json is not a valid case-level record \(model\.referral: threshold .* would not refer the wrong call/);
  }
  const lowered2 = join(root, 'lowered-2');
  cpSync(base, lowered2, { recursive: true });
  writeFileSync(runPath(lowered2, 'caseLevel'), JSON.stringify({ ...record, model: { ...record.model, referral: { ...record.model.referral, errors: 2, surestWrong: 0.95, threshold: 0.9 } } }));
  await assert.rejects(loadRun(lowered2, { calibration: 'optional' }), /model\.referral: threshold 0\.9 would not refer the wrong call of probability 0\.95/);

  // So is the number of heads: a record edited to one head is refused, not read as head 0 alone.
  const heads = join(root, 'heads');
  cpSync(base, heads, { recursive: true });
  writeFileSync(runPath(heads, 'caseLevel'), JSON.stringify({ ...record, model: { ...record.model, heads: 1 } }));
  await assert.rejects(loadRun(heads, { calibration: 'optional' }), /case-model\.safetensors's configuration differs from the one recorded in .*case-level\.json/);

  // train-case replaces a damaged case model rather than refusing to start.
  const retrained = aplnet(caseArgs(damaged));
  assert.equal(retrained.status, 0, retrained.stderr);
  const loaded = await loadRun(damaged, { calibration: 'optional' });
  loaded.model.dispose();
  loaded.caseLevel?.model?.dispose();
});

test('--heads 1 --folds 1 writes the one-head layout that records without a heads field name, and they still load; fine-tuning refuses several heads or folds', async () => {
  const one = join(root, 'one-head');
  cpSync(run, one, { recursive: true });
  const result = aplnet(caseArgs(one, '--heads', '1', '--folds', '1'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /case model \(frozen encoder\) trained on 12 cases/);
  assert.match(result.stdout, /validation cases: 6, /);
  const record = JSON.parse(readFileSync(runPath(one, 'caseLevel'), 'utf8'));
  assert.equal(record.model.heads, 1);
  assert.equal(record.model.headBestEpochs, undefined);
  // A record written before ensembles existed has no heads field: it means one head.
  delete record.model.heads;
  writeFileSync(runPath(one, 'caseLevel'), JSON.stringify(record));
  const loaded = await loadRun(one, { calibration: 'optional' });
  try {
    assert.equal(loaded.caseLevel?.model?.heads.length, 1);
  } finally {
    loaded.model.dispose();
    loaded.caseLevel?.model?.dispose();
  }
  const refused = aplnet(caseArgs(join(root, 'one-head'), '--encoder', 'fine-tune', '--heads', '3'));
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /--encoder fine-tune trains the encoder through one case head; --heads 3 needs --encoder frozen/);
  const zero = aplnet(caseArgs(join(root, 'one-head'), '--heads', '0'));
  assert.notEqual(zero.status, 0);
  assert.match(zero.stderr, /--heads/);
  const folded = aplnet(caseArgs(join(root, 'one-head'), '--encoder', 'fine-tune', '--folds', '5'));
  assert.notEqual(folded.status, 0);
  assert.match(folded.stderr, /--encoder fine-tune trains one case model on the train split; --folds 5 needs --encoder frozen/);
  // Too few cases for the folds asked: one model on the train split, and the log says why.
  const fewCases = join(root, 'few-cases');
  cpSync(run, fewCases, { recursive: true });
  const few = aplnet(caseArgs(fewCases, '--folds', '10', '--heads', '1'));
  assert.equal(few.status, 0, few.stderr);
  assert.match(few.stderr, /18 train and validation cases are too few for 10 folds \(at least 20\): the case model is trained on the train split/);
  const fewRecord = JSON.parse(readFileSync(runPath(fewCases, 'caseLevel'), 'utf8'));
  assert.equal(fewRecord.model.folds, undefined);
  assert.match(fewRecord.model.referral.fittedOn, /the calls of the 6 validation cases/);
  const two = aplnet(caseArgs(join(root, 'one-head'), '--folds', '2'));
  assert.notEqual(two.status, 0);
  assert.match(two.stderr, /--folds must be 1 \(one model on the train split\) or a whole number from 3 to 20, got 2/);
  const many = aplnet(caseArgs(join(root, 'one-head'), '--folds', '20', '--heads', '5'));
  assert.notEqual(many.status, 0);
  assert.match(many.stderr, /--folds 20 × --heads 5 is 100 heads; a case model holds at most 64/);
});

test('--pooling attention-mean is recorded with the case model, loads and calls; records without pooling read as attention; a bad mode is refused', async () => {
  const pooled = join(root, 'pooled');
  cpSync(run, pooled, { recursive: true });
  const result = aplnet(caseArgs(pooled, '--heads', '1', '--folds', '1', '--pooling', 'attention-mean'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /case model \(frozen encoder, attention-mean pooling\) trained on 12 cases/);
  const record = JSON.parse(readFileSync(runPath(pooled, 'caseLevel'), 'utf8'));
  assert.equal(record.model.config.pooling, 'attention-mean');
  const loaded = await loadRun(pooled, { calibration: 'optional' });
  try {
    const head = loaded.caseLevel!.model!.heads[0];
    assert.equal(head.config.pooling, 'attention-mean');
    const d = head.config.embeddingDim;
    const call = loaded.caseLevel!.model!.predict([new Float32Array(d).fill(0.1), new Float32Array(d).fill(-0.2)]);
    assert.ok(Math.abs(Object.values(call.probabilities).reduce((a, b) => a + b, 0) - 1) < 1e-6);
  } finally {
    loaded.model.dispose();
    loaded.caseLevel?.model?.dispose();
  }
  // The default records attention; a record written before the field existed reads as attention.
  const base = join(root, 'trained');
  assert.ok(existsSync(runPath(base, 'caseModel')), 'needs the run trained by the test above');
  const plainPath = runPath(base, 'caseLevel');
  const plain = JSON.parse(readFileSync(plainPath, 'utf8'));
  assert.equal(plain.model.config.pooling, 'attention');
  const older = join(root, 'older-record');
  cpSync(base, older, { recursive: true });
  delete plain.model.config.pooling;
  // The case model file as it was written before the pooling existed: its configuration without the field.
  const file = loadSafetensors(runPath(older, 'caseModel'), 'cpu', { requireChecksum: true });
  const oldConfig = JSON.parse(file.metadata['aplnet.case.config']);
  assert.equal(oldConfig.pooling, 'attention');
  delete oldConfig.pooling;
  saveSafetensors(runPath(older, 'caseModel'), file.tensors, { ...file.metadata, 'aplnet.case.config': JSON.stringify(oldConfig) });
  plain.model.sha256 = sha(runPath(older, 'caseModel'));
  writeFileSync(runPath(older, 'caseLevel'), JSON.stringify(plain));
  const olderRun = await loadRun(older, { calibration: 'optional' });
  try {
    assert.equal(olderRun.caseLevel!.model!.heads[0].config.pooling, 'attention');
  } finally {
    olderRun.model.dispose();
    olderRun.caseLevel?.model?.dispose();
  }
  const bad = aplnet(caseArgs(pooled, '--pooling', 'max'));
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--pooling must be attention or attention-mean, got "max"/);
});

test('a run whose labels are cell types is refused by train-case, saying why', () => {
  const tiny = trainTinyRunSync();
  try {
    // Class folders have no patient ids.
    const refused = aplnet(['train-case', tiny.run, '--epochs', '2', '--threads', '1', '--workers', '0', '--cache-dir', join(tiny.root, 'cache')]);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /is not case-level: .* has no patient_id/);
    // A manifest whose patients have cells of several labels.
    const mixed = join(root, 'mixed.csv');
    const lines = readFileSync(withoutTypes, 'utf8').trim().split('\n');
    const [header, ...rows] = lines;
    const broken = rows.map((line, i) => (i === 1 ? line.replace(/,(erythroblastic|left-shift|normal),/, (_, label) => `,${label === 'normal' ? 'left-shift' : 'normal'},`) : line));
    writeFileSync(mixed, [header, ...broken].join('\n') + '\n');
    const copy = join(root, 'mixed-run');
    cpSync(run, copy, { recursive: true });
    const refusedMixed = aplnet(caseArgs(copy, '--data', mixed));
    assert.equal(refusedMixed.status, 1);
    assert.match(refusedMixed.stderr, /patient "case-\d+" has images labelled .* so its labels are cell types/);
  } finally {
    rmSync(tiny.root, { recursive: true, force: true });
  }
});

test('evaluate on a case-level run shows the case model and the baselines side by side, with key-instance detection', () => {
  const base = join(root, 'trained');
  assert.ok(existsSync(runPath(base, 'caseModel')), 'needs the run trained by the test above');
  const copy = join(root, 'evaluated');
  cpSync(base, copy, { recursive: true });
  const result = aplnet(['evaluate', copy, '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache'), '--key-cell-types', 'left-shift=ig,erythroblastic=erythroblast']);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /cases: test split of .*: 3 cases, 18 cells; case model: frozen encoder/);
  assert.match(result.stdout, /case accuracy +\S+ +\S+ +\S+ +\S+/);
  assert.match(result.stdout, /key-instance detection \(left-shift=ig, erythroblastic=erythroblast\): ROC-AUC of the case model's cell weights/);
  const saved = JSON.parse(readFileSync(join(copy, 'case-metrics.json'), 'utf8'));
  assert.equal(saved.cases, 3);
  assert.deepEqual(Object.keys(saved.methods), ['case-model', 'mean-probability', 'mean-log-probability', 'majority-vote']);
  assert.equal(saved.perCase.length, 3);
  // Every method's whole distribution is kept beside its call (metrics pooled over several evaluations read it).
  for (const row of saved.perCase) {
    for (const method of Object.keys(saved.methods)) {
      const p: number[] = row.distributions[method];
      assert.equal(p.length, 3);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5, `${row.id} ${method}: ${p}`);
      assert.equal(row.probabilities[method], Math.max(...p));
    }
  }
});

test('case metrics leave out the cells set aside as out of distribution, as the case summary does; a case with no cell left is not called', async () => {
  const base = join(root, 'trained');
  assert.ok(existsSync(runPath(base, 'caseModel')), 'needs the run trained by the test above');
  const testRows = readFileSync(withTypes, 'utf8').trim().split('\n').slice(1).map((line) => line.split(',')).filter((row) => row[3] === 'test');
  const [first, second] = [...new Set(testRows.map((row) => row[2]))];
  const firstCells = testRows.filter((row) => row[2] === first).map((row) => row[0]);
  const oneOfSecond = testRows.find((row) => row[2] === second)![0];
  const loaded = await loadRun(base, { calibration: 'optional' });
  try {
    const quiet = { log: () => {}, workers: 0, cacheDir: join(root, 'cache') };
    const all = await evaluateCases(loaded, 'cpu', { ...quiet, setAside: new Set() });
    assert.equal(all!.cells, 18);
    assert.equal(all!.cellsSetAside, 0);
    const some = await evaluateCases(loaded, 'cpu', { ...quiet, setAside: new Set([...firstCells, oneOfSecond]) });
    assert.equal(some!.cases, 2);
    assert.deepEqual(some!.casesWithoutCells, [first]);
    assert.equal(some!.cellsSetAside, firstCells.length + 1);
    assert.equal(some!.cells, 18 - firstCells.length - 1);
    assert.equal(some!.perCase.find((row) => row.id === second)!.cells, 5);
    assert.ok(!some!.perCase.some((row) => row.id === first));
    assert.ok(formatCaseEvaluation(some!).includes(`(${firstCells.length + 1} set aside as out of distribution and left out, as in the case summary; 1 case(s) with no cell left, not called)`));
  } finally {
    loaded.model.dispose();
    loaded.caseLevel?.model?.dispose();
  }
});

test('evaluate records a case-level run that has no case model yet, with the baseline chosen on validation cases', async () => {
  const copy = join(root, 'recorded');
  cpSync(run, copy, { recursive: true });
  // As a run trained before aplnet train recorded it itself.
  rmSync(runPath(copy, 'caseLevel'));
  const result = aplnet(['evaluate', copy, '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache')]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /recorded the run as case-level: without a case model the case call is (mean-probability|mean-log-probability|majority-vote)/);
  assert.match(result.stdout, /no case model \(train one with "aplnet train-case"\)/);
  const loaded = await loadRun(copy, { calibration: 'optional' });
  try {
    assert.ok(loaded.caseLevel);
    assert.equal(loaded.caseLevel.model, null);
  } finally {
    loaded.model.dispose();
  }
});

test('train-case takes the run lock: a run another writer holds is refused, naming the writer', () => {
  const copy = join(root, 'locked');
  cpSync(run, copy, { recursive: true });
  const lock = acquireRunLock(copy, 'evaluate');
  try {
    const refused = aplnet(caseArgs(copy));
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /is in use by "aplnet evaluate"/);
    assert.equal(sha(runPath(copy, 'caseLevel')), sha(runPath(run, 'caseLevel')), 'nothing written');
    assert.ok(!existsSync(runPath(copy, 'caseModel')), 'no case model written');
  } finally {
    lock.release();
  }
});

test('--encoder fine-tune trains the encoder through the case model; loadRun gives the case model with its own encoder, and evaluate uses it', async () => {
  const copy = join(root, 'fine-tuned');
  cpSync(run, copy, { recursive: true });
  const result = aplnet(caseArgs(copy, '--encoder', 'fine-tune', '--fine-tune-epochs', '1'));
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stderr, /fine-tune epoch 1\/1/);
  assert.match(result.stdout, /case model \(fine-tune encoder\)/);
  const loaded = await loadRun(copy, { calibration: 'optional' });
  try {
    const model = loaded.caseLevel?.model;
    assert.ok(model);
    assert.equal(model.encoderKind, 'fine-tune');
    assert.ok(model.encoder, 'the fine-tuned encoder is loaded with the case model');
  } finally {
    loaded.model.dispose();
    loaded.caseLevel?.model?.dispose();
  }
  const evaluated = aplnet(['evaluate', copy, '--threads', '1', '--workers', '0', '--cache-dir', join(root, 'cache')]);
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.match(evaluated.stdout, /case model: fine-tune encoder/);
});
