// The one case summary, on hand-made prediction-core results: what a hematologist would accept as a
// case's headline, differential, flags and ranking, for cell-type runs (no call) and patient-labelled
// runs (a call from the run's baseline).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeCase, type CaseSummaryRun, type ImageFailure, type ImagePrediction, type PredictResult } from '../src/run/index.js';

const CELL_TYPES = ['lymphocyte', 'monocyte', 'neutrophil', 'platelet'];

function cell(file: string, probabilities: number[], classNames = CELL_TYPES, extra: Partial<ImagePrediction> = {}, threshold = 0.7): ImagePrediction {
  let best = 0;
  probabilities.forEach((p, k) => { if (p > probabilities[best]) best = k; });
  const refer = probabilities[best] < threshold;
  return {
    file,
    ok: true,
    probabilities: Object.fromEntries(classNames.map((name, k) => [name, probabilities[k]])),
    predicted: classNames[best],
    confidence: probabilities[best],
    refer,
    referReason: refer ? 'low-confidence' : null,
    notes: [],
    pixels: new Uint8Array(0),
    side: 0,
    maps: {},
    ...extra,
  };
}

const failure = (file: string): ImageFailure => ({ file, ok: false, reason: 'corrupt', message: `${file}: not an image` });
const ood = (c: ImagePrediction): ImagePrediction => ({ ...c, ood: { score: 9, threshold: 3, flagged: true } });

const calibration = { temperature: 1, referralThreshold: 0.7 } as CaseSummaryRun['calibration'];
const cellTypeRun: CaseSummaryRun = { classNames: CELL_TYPES, calibration, caseLevel: null };
const CASE_CLASSES = ['erythroblastic', 'left-shift', 'normal'];
const caseRun = (baseline: 'mean-probability' | 'mean-log-probability' | 'majority-vote'): CaseSummaryRun => ({ classNames: CASE_CLASSES, calibration, caseLevel: { baseline } });

/** Six held-out neutrophils, three of them called with ≥ 84%, as in the issue. */
const sixNeutrophils = [0.93, 0.88, 0.84, 0.62, 0.55, 0.6].map((p, i) => cell(`n${i}.jpg`, [(1 - p) / 3, (1 - p) / 3, p, (1 - p) / 3]));

test('a cell-type run: six neutrophils are a differential of neutrophil 6 (100%), with no call and no case probability', () => {
  const summary = summarizeCase(cellTypeRun, sixNeutrophils, { caseId: 'six', maxFlaggedShare: 0.5 });
  assert.equal(summary.call, null);
  assert.equal(summary.caseId, 'six');
  assert.deepEqual(summary.differential.map((d) => [d.className, d.count, d.percent]), [['lymphocyte', 0, 0], ['monocyte', 0, 0], ['neutrophil', 6, 100], ['platelet', 0, 0]]);
  assert.equal(summary.usable, 6);
  assert.equal(summary.flagged, 3);
  assert.equal(summary.flaggedShare, 0.5);
  assert.equal(summary.refer, false, 'half flagged is not above a stated share of one half');
  // Without a call, cells rank by their own confidence.
  assert.deepEqual(summary.ranked.map((r) => r.file), ['n0.jpg', 'n1.jpg', 'n2.jpg', 'n3.jpg', 'n5.jpg', 'n4.jpg']);
  assert.deepEqual(summary.ranked.map((r) => r.weight), [0.93, 0.88, 0.84, 0.62, 0.6, 0.55]);
});

test('a cell-type run: the same six neutrophils under the default stated share (20%) refer the differential for review', () => {
  const summary = summarizeCase(cellTypeRun, sixNeutrophils);
  assert.equal(summary.maxFlaggedShare, 0.2);
  assert.equal(summary.refer, true);
  assert.deepEqual(summary.referReasons, ['3 of 6 usable cells (50.0%) were flagged for low confidence, above the stated share of 20.0%']);
});

test('a mixed normal smear gives its differential with percentages of the usable cells', () => {
  const types = ['neutrophil', 'neutrophil', 'neutrophil', 'neutrophil', 'neutrophil', 'lymphocyte', 'lymphocyte', 'lymphocyte', 'monocyte', 'platelet'];
  const results = types.map((type, i) => cell(`c${i}.jpg`, CELL_TYPES.map((name) => (name === type ? 0.91 : 0.03))));
  const summary = summarizeCase(cellTypeRun, results);
  assert.equal(summary.call, null);
  assert.deepEqual(summary.differential.map((d) => [d.className, d.count, d.percent]), [['lymphocyte', 3, 30], ['monocyte', 1, 10], ['neutrophil', 5, 50], ['platelet', 1, 10]]);
  assert.equal(summary.flagged, 0);
  assert.equal(summary.refer, false);
  assert.deepEqual(summary.referReasons, []);
});

/** Twelve cells of a left-shifted case, each cell confident: ten called left-shift, two normal. */
const leftShift = Array.from({ length: 12 }, (_, i) => cell(`l${i}.jpg`, i < 10 ? [0.05, 0.9, 0.05] : [0.04, 0.06, 0.9], CASE_CLASSES));

test('a patient-labelled run: the call comes from the named baseline, the cells weigh their probability of the called class', () => {
  const summary = summarizeCase(caseRun('mean-probability'), leftShift);
  assert.ok(summary.call);
  assert.equal(summary.call.label, 'left-shift');
  assert.equal(summary.call.source, 'mean-probability');
  assert.ok(Math.abs(summary.call.probability - (10 * 0.9 + 2 * 0.06) / 12) < 1e-12);
  assert.equal(summary.call.refer, false);
  assert.equal(summary.refer, false);
  const total = 10 * 0.9 + 2 * 0.06;
  assert.ok(Math.abs(summary.ranked[0].weight - 0.9 / total) < 1e-12);
  assert.equal(summary.ranked[0].file, 'l0.jpg');
  assert.equal(summary.ranked.at(-1)!.file, 'l11.jpg');
  assert.ok(Math.abs(summary.ranked.reduce((a, r) => a + r.weight, 0) - 1) < 1e-12);
});

test('a patient-labelled run: a confident case call is referred, never "above threshold", while images set aside exceed the stated share', () => {
  const notCells = [0, 1, 2, 3].map((i) => ood(cell(`x${i}.png`, [0.1, 0.1, 0.8], CASE_CLASSES)));
  const summary = summarizeCase(caseRun('majority-vote'), [...leftShift, ...notCells]);
  assert.ok(summary.call);
  assert.equal(summary.call.label, 'left-shift');
  assert.ok(summary.call.probability >= 0.7, 'the call alone is above the threshold');
  assert.equal(summary.flagRule, 'set-aside');
  assert.equal(summary.flagged, 4);
  assert.equal(summary.flaggedShare, 4 / 16);
  assert.equal(summary.call.refer, true);
  assert.equal(summary.refer, true);
  assert.deepEqual(summary.call.referReasons, ['4 of 16 images (25.0%) were unreadable or unlike the training cells, above the stated share of 20.0%']);
  const lenient = summarizeCase(caseRun('majority-vote'), [...leftShift, ...notCells], { maxFlaggedShare: 0.25 });
  assert.equal(lenient.call!.refer, false, '4 of 16 is within a stated share of 25%');
});

test('a patient-labelled run: cells unsure on their own are counted but are no reason to refer (a cell rarely carries its patient\'s label)', () => {
  const unsure = [0, 1, 2, 3].map((i) => cell(`u${i}.jpg`, [0.2, 0.55, 0.25], CASE_CLASSES));
  const summary = summarizeCase(caseRun('majority-vote'), [...leftShift, ...unsure]);
  assert.equal(summary.call!.probability, 14 / 16);
  assert.equal(summary.lowConfidence, 4);
  assert.equal(summary.flagged, 0);
  assert.equal(summary.refer, false);
  // The same cells in a cell-type run are the flagged cells, and refer the case.
  const cellTypes = summarizeCase({ ...caseRun('majority-vote'), caseLevel: null }, [...leftShift, ...unsure]);
  assert.equal(cellTypes.flagRule, 'low-confidence');
  assert.equal(cellTypes.flagged, 4);
  assert.deepEqual(cellTypes.referReasons, ['4 of 16 usable cells (25.0%) were flagged for low confidence, above the stated share of 20.0%']);
});

test('a patient-labelled run: the call is referred below the case referral threshold fitted for it, which names where it comes from; a stated threshold overrides it', () => {
  const run: CaseSummaryRun = { ...caseRun('majority-vote'), caseLevel: { baseline: 'majority-vote', referral: { threshold: 0.9, fittedOn: 'the 23 validation cases' } } };
  const summary = summarizeCase(run, leftShift);
  assert.ok(summary.call!.probability >= 0.7 && summary.call!.probability < 0.9);
  assert.equal(summary.call!.threshold, 0.9);
  assert.equal(summary.refer, true);
  assert.deepEqual(summary.referReasons, [`case probability ${(summary.call!.probability * 100).toFixed(1)}% is below 90.0%, the case referral threshold, fitted on the 23 validation cases: none of them at or above it was wrong`]);
  assert.equal(summarizeCase(run, leftShift, { threshold: 0.7 }).refer, false);
  const everyCall = summarizeCase({ ...run, caseLevel: { baseline: 'majority-vote', referral: { threshold: 1, fittedOn: 'x' } } }, leftShift.map((c) => cell(c.file, [0, 1, 0], CASE_CLASSES)));
  assert.equal(everyCall.call!.probability, 1);
  assert.equal(everyCall.refer, true, 'a threshold of 1 refers even a call of probability 1');
});

test('out-of-distribution and unreadable images are counted, and left out of the call, the differential and the ranking', () => {
  const blank = ood(cell('blank.png', [0.01, 0.01, 0.98], CASE_CLASSES));
  const results: PredictResult[] = [...leftShift, blank, failure('broken.jpg')];
  const summary = summarizeCase(caseRun('mean-probability'), results);
  assert.equal(summary.cells, 14);
  assert.equal(summary.failed, 1);
  assert.equal(summary.outOfDistribution, 1);
  assert.equal(summary.usable, 12);
  assert.deepEqual(summary.differential.map((d) => d.count), [0, 10, 2]);
  assert.equal(summary.ranked.length, 12);
  assert.ok(!summary.ranked.some((r) => r.file === 'blank.png' || r.file === 'broken.jpg'));
  const without = summarizeCase(caseRun('mean-probability'), leftShift);
  assert.deepEqual(summary.call!.probabilities, without.call!.probabilities, 'the set-aside images change nothing in the call');
  assert.equal(summary.refer, false, '2 of 14 set aside is within the stated share');
});

test('when out-of-distribution or unreadable images leave too few usable cells, the case is referred whatever its probability', () => {
  const many = [...leftShift.slice(0, 10), ...[0, 1, 2].map((i) => ood(cell(`o${i}.png`, [0.98, 0.01, 0.01], CASE_CLASSES)))];
  const setAside = summarizeCase(caseRun('mean-probability'), [...many, failure('x.jpg')]);
  assert.equal(setAside.call!.label, 'left-shift');
  assert.ok(setAside.call!.probability > 0.7);
  assert.equal(setAside.refer, true);
  assert.match(setAside.referReasons[0], /^4 of 14 images \(28\.6%\) were unreadable or unlike the training cells/);
  const few = summarizeCase(caseRun('mean-probability'), leftShift.slice(0, 4));
  assert.equal(few.refer, true);
  assert.deepEqual(few.referReasons, ['the call rests on 4 usable cell(s); a case call needs at least 10']);
  assert.equal(summarizeCase(caseRun('mean-probability'), leftShift.slice(0, 4), { minUsableCells: 4 }).refer, false);
});

test('a case of zero usable cells makes no call and is referred with the reason', () => {
  const results: PredictResult[] = [failure('a.jpg'), ood(cell('b.png', [0.9, 0.05, 0.05], CASE_CLASSES))];
  const summary = summarizeCase(caseRun('mean-probability'), results);
  assert.equal(summary.call, null);
  assert.equal(summary.usable, 0);
  assert.equal(summary.flaggedShare, 1);
  assert.equal(summary.refer, true);
  assert.deepEqual(summary.referReasons, ['no usable cells: all 2 image(s) were unreadable or unlike the training cells']);
  assert.deepEqual(summary.differential.map((d) => d.percent), [0, 0, 0]);
  const empty = summarizeCase(cellTypeRun, []);
  assert.equal(empty.refer, true);
  assert.deepEqual(empty.referReasons, ['no images were given']);
});

test('a case probability below the threshold refers the call, naming the probability and the threshold', () => {
  const split = Array.from({ length: 10 }, (_, i) => cell(`s${i}.jpg`, i < 6 ? [0.1, 0.85, 0.05] : [0.05, 0.1, 0.85], CASE_CLASSES));
  const summary = summarizeCase(caseRun('mean-probability'), split);
  assert.equal(summary.call!.label, 'left-shift');
  assert.ok(Math.abs(summary.call!.probability - 0.55) < 1e-12);
  assert.deepEqual(summary.referReasons, ["case probability 55.0% is below 70.0%, the run's referral threshold"]);
  assert.equal(summarizeCase(caseRun('mean-probability'), split, { threshold: 0.5 }).refer, false);
});

test('a vote tie is called on the higher mean probability and referred as a tie', () => {
  const tie = Array.from({ length: 10 }, (_, i) => cell(`t${i}.jpg`, i < 5 ? [0.02, 0.8, 0.18] : [0.02, 0.03, 0.95], CASE_CLASSES));
  const summary = summarizeCase(caseRun('majority-vote'), tie);
  assert.equal(summary.call!.label, 'normal');
  assert.equal(summary.call!.source, 'majority-vote');
  assert.equal(summary.call!.probability, 0.5);
  assert.deepEqual(summary.call!.probabilities, { erythroblastic: 0, 'left-shift': 0.5, normal: 0.5 });
  assert.equal(summary.refer, true);
  assert.ok(summary.referReasons.includes('vote tie between normal and left-shift (50.0% of the cells each); called on the higher mean probability'));
});

test('options out of range are refused by name', () => {
  assert.throws(() => summarizeCase(cellTypeRun, sixNeutrophils, { maxFlaggedShare: 1.5 }), /maxFlaggedShare.*1\.5/);
  assert.throws(() => summarizeCase(cellTypeRun, sixNeutrophils, { threshold: Number.NaN }), /referral threshold.*NaN/);
  assert.throws(() => summarizeCase(cellTypeRun, sixNeutrophils, { minUsableCells: 0 }), /usable cells.*0/);
});
