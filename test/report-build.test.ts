import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { evaluateClassifier } from '../src/eval/index.js';
import { buildReportHtml, keyMetrics, metricsSummary, selectGalleryCases } from '../src/report/index.js';
import { CLASSES, fakeLogits, fakeReportInput } from './report-fixtures.js';

test('the report is one offline HTML page with inline SVG charts and PNG images', async () => {
  const input = await fakeReportInput();
  const page = await buildReportHtml(input);
  if (process.env.APLNET_REPORT_PREVIEW) writeFileSync(process.env.APLNET_REPORT_PREVIEW, page);

  assert.match(page, /^<!DOCTYPE html>\n<html lang="en">/);
  assert.match(page, /<\/html>\n$/);
  // Loss, accuracy, learning rate, confusion matrix, ROC, and two reliability diagrams.
  assert.equal(page.match(/<svg\b/g)?.length, 7);
  assert.equal(page.match(/<img src="data:image\/png;base64,/g)?.length, input.gallery.length);
  const references = [...page.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
  assert.ok(references.length > 0);
  for (const ref of references) assert.match(ref, /^(#|data:image\/png;base64,)/, `external reference ${ref.slice(0, 60)}`);
  assert.doesNotMatch(page, /<script|<link\b|@import|url\((?!#)/i);
  // No two elements share an id, even across the seven SVGs.
  const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
  for (const text of ['Model card', 'not a diagnosis', 'come from the training data', 'Acevedo A', 'doi:10.1016/j.dib.2020.105474', 'After calibration', '&quot;optimizer&quot;: &quot;adamw&quot;']) {
    assert.ok(page.includes(text), `missing "${text}"`);
  }
  for (const name of CLASSES) assert.ok(page.includes(`<h3>${name}</h3>`), `gallery misses ${name}`);
  assert.match(page, /the image as the model saw it beside the same image with the map overlaid, and the colour scale/, 'the gallery says how to read its panels');
});

test('class names and captions from the data are escaped, never injected', async () => {
  const input = await fakeReportInput();
  const evil = '<img src=x onerror=alert(1)>';
  const classNames = [...CLASSES.slice(0, 7), evil];
  const { logits, labels } = fakeLogits(3, 9);
  const uncalibrated = evaluateClassifier({ logits, labels, classNames });
  const page = await buildReportHtml({
    ...input,
    dataset: { ...input.dataset, classNames },
    evaluation: { splitName: 'test', uncalibrated },
    gallery: [{ ...input.gallery[0], trueClass: evil, caption: evil }],
  });
  assert.ok(!page.includes(evil));
  assert.ok(page.includes('&lt;img src=x onerror=alert(1)&gt;'));
});

test('patient-level metrics get their own columns and table', async () => {
  // Five images per patient, nine patients per class.
  const patientIds = Array.from({ length: CLASSES.length * 45 }, (_, i) => `P${Math.floor(i / 5)}`);
  const input = await fakeReportInput(patientIds);
  const page = await buildReportHtml({ ...input, dataset: { ...input.dataset, patientsBySplit: { train: 336, validation: 72, test: 72 } } });
  assert.ok(page.includes('patients, after'));
  assert.ok(page.includes('Per class, patient level'));
  assert.ok(page.includes('splits are by patient'));
});

test('a gallery image that is not a PNG is refused with what to do', async () => {
  const input = await fakeReportInput();
  const jpeg = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).jpeg().toBuffer();
  await assert.rejects(buildReportHtml({ ...input, gallery: [{ ...input.gallery[0], png: jpeg }] }), /is not a PNG \(convert it with sharp/);
});

test('selectGalleryCases takes the most confident right and wrong images per true class', () => {
  const probs = [
    [0.9, 0.1], // class 0, right, .9
    [0.6, 0.4], // class 0, right, .6
    [0.3, 0.7], // class 0, wrong, .7
    [0.2, 0.8], // class 1, right, .8
    [0.95, 0.05], // class 1, wrong, .95
  ];
  const cases = selectGalleryCases(probs, [0, 0, 0, 1, 1], 2, 1);
  assert.deepEqual(cases.map((c) => [c.index, c.kind]), [
    [0, 'most-confident-right'],
    [2, 'most-confident-wrong'],
    [3, 'most-confident-right'],
    [4, 'most-confident-wrong'],
  ]);
});

test('the model card lists the key test metrics with their bootstrap intervals, as metrics.json summarises them', async () => {
  const input = await fakeReportInput();
  const page = await buildReportHtml(input);
  const calibrated = input.evaluation.calibrated!;
  const card = page.slice(page.indexOf('<section id="model-card"'), page.indexOf('</section>', page.indexOf('<section id="model-card"')));
  assert.match(card, /<dt>Metrics<\/dt>/);
  const summary = metricsSummary(calibrated);
  assert.deepEqual(Object.keys(summary), ['accuracy', 'macro-F1', 'macro ROC-AUC', 'ECE']);
  for (const [label, text] of Object.entries(summary)) assert.ok(card.includes(`<li>${label} ${text}</li>`), `card misses ${label} ${text}`);
  const { accuracy, intervals } = calibrated.images;
  const percent = (v: number) => (v * 100).toFixed(1);
  assert.equal(summary.accuracy, `${percent(accuracy)}% (95% CI ${percent(intervals!.accuracy.low)}\u2013${percent(intervals!.accuracy.high)})`);
  assert.match(card, /95% CIs: percentile bootstrap, 1,000 resamples of the 360 images \(seed 0\)/);
  // The results table carries the same text.
  assert.ok(page.includes(`<td>${summary.accuracy}</td>`));
});

test('the model card says what part of an image the model reads, and what its out-of-distribution check does and does not catch', async () => {
  const input = await fakeReportInput();
  const cardOf = (page: string) => page.slice(page.indexOf('<section id="model-card"'), page.indexOf('</section>', page.indexOf('<section id="model-card"')));
  const without = cardOf(await buildReportHtml(input));
  assert.doesNotMatch(without, /<dt>Input<\/dt>/);
  assert.match(without, /out-of-distribution images are not detected/);
  const withCheck = cardOf(await buildReportHtml({ ...input, modelCard: { ...input.modelCard, framing: "the middle 67% of each image's shorter side (zoom 1.5), scaled to 144×144 px: the cell must be centred in the image", oodCheck: { validationFlagged: 0.0168 } } }));
  assert.match(withCheck, /<dt>Input<\/dt>\s*<dd>the middle 67% of each image&#39;s shorter side \(zoom 1\.5\), scaled to 144×144 px: the cell must be centred in the image\.<\/dd>/);
  assert.match(withCheck, /Its out-of-distribution check sets aside images unlike its training images \(it flags 1\.7% of the validation images\), but an image of something it never saw that resembles them/);
  assert.doesNotMatch(withCheck, /are not detected/);
});

test('the reliability diagram bins 32 images in 3 bins, and its ECE is the number computed on those bins', async () => {
  const input = await fakeReportInput();
  const { logits, labels } = fakeLogits(4, 12); // 8 classes × 4 = 32 images
  const uncalibrated = evaluateClassifier({ logits, labels, classNames: CLASSES });
  assert.equal(uncalibrated.images.calibration.bins.length, 3);
  const page = await buildReportHtml({ ...input, evaluation: { splitName: 'test', uncalibrated } });
  const ece = keyMetrics(uncalibrated.images).expectedCalibrationError.text;
  assert.ok(page.includes(`ECE ${ece} · 3 equal-width bins`), `subtitle with ECE ${ece} and 3 bins not found`);
  assert.ok(page.includes('floor(n / 10) of them kept within 2\u201315 for n images (here 32 images, 3 bins)'));
});
