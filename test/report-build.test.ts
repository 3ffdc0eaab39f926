import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { evaluateClassifier, evaluateWithTemperatureScaling, softmaxRows } from '../src/eval/index.js';
import { buildReportHtml, selectGalleryCases, type GalleryImage, type ReportInput, type TrainingCurveRow } from '../src/report/index.js';
import { mulberry32 } from '../src/data/prng.js';

const CLASSES = ['basophil', 'eosinophil', 'erythroblast', 'ig', 'lymphocyte', 'monocyte', 'neutrophil', 'platelet'];
/** ../shared/data beside the repository; dist/test/ is two levels below the repository root. */
const PBC_DIR = fileURLToPath(new URL('../../../shared/data/pbc-8class/', import.meta.url));

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Logits shaped like a good but imperfect 8-class smear model: a strong margin for the true
 * class, extra weight on the classes that are really confused in blood smears (ig with
 * neutrophil and monocyte, lymphocyte with monocyte) and everything multiplied by 4 so the
 * raw model is over-confident, as trained CNNs usually are.
 */
function fakeLogits(perClass: number, seed: number) {
  const random = mulberry32(seed);
  const neighbours: Record<string, string[]> = { ig: ['neutrophil', 'monocyte'], lymphocyte: ['monocyte'], monocyte: ['ig', 'lymphocyte'], neutrophil: ['ig'], basophil: ['ig'] };
  const logits: number[][] = [];
  const labels: number[] = [];
  CLASSES.forEach((name, y) => {
    for (let i = 0; i < perClass; i++) {
      const row = CLASSES.map((other, k) => {
        const base = k === y ? 4.2 : (neighbours[name] ?? []).includes(other) ? 2.2 : 0;
        return 4 * (base + 1.0 * gaussian(random));
      });
      logits.push(row);
      labels.push(y);
    }
  });
  return { logits, labels };
}

function fakeCurves(epochs: number): TrainingCurveRow[] {
  const random = mulberry32(3);
  return Array.from({ length: epochs }, (_, e) => {
    const progress = (e + 1) / epochs;
    const warm = Math.min(1, (e + 1) / 3);
    return {
      epoch: e + 1,
      train_loss: 1.9 * Math.exp(-4 * progress) + 0.05 + 0.02 * random(),
      val_loss: 1.7 * Math.exp(-3.5 * progress) + 0.16 + 0.04 * random(),
      train_acc: 1 - 0.8 * Math.exp(-5 * progress) - 0.01 * random(),
      val_acc: 1 - 0.78 * Math.exp(-4.5 * progress) - 0.04 - 0.02 * random(),
      val_macro_f1: 1 - 0.8 * Math.exp(-4.5 * progress) - 0.045 - 0.02 * random(),
      lr: 1e-3 * warm * 0.5 * (1 + Math.cos(Math.PI * progress)),
    };
  });
}

/** Real PBC crops when the shared data is there (the crops stand in for overlays), flat tiles otherwise. */
async function galleryPng(className: string, nth: number): Promise<{ png: Buffer; caption: string }> {
  const folder = join(PBC_DIR, className);
  if (existsSync(folder)) {
    const files = readdirSync(folder).filter((f) => f.endsWith('.jpg')).sort();
    const file = files[nth % files.length];
    return { png: await sharp(join(folder, file)).resize(160, 160, { fit: 'cover' }).png().toBuffer(), caption: file };
  }
  const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 160 } } }).png().toBuffer();
  return { png, caption: `${className} #${nth}` };
}

async function fakeReportInput(patientIds?: string[]): Promise<ReportInput> {
  const validation = fakeLogits(45, 1);
  const testSet = fakeLogits(45, 2);
  const evaluation = evaluateWithTemperatureScaling({
    validation,
    test: { ...testSet, patientIds },
    classNames: CLASSES,
    referralThreshold: 0.6,
  });
  const cases = selectGalleryCases(softmaxRows(testSet.logits, evaluation.temperatureFit.temperature), testSet.labels, CLASSES.length, 2);
  const gallery: GalleryImage[] = [];
  for (const c of cases) {
    const { png, caption } = await galleryPng(CLASSES[c.trueClass], c.index);
    gallery.push({ png, caption, kind: c.kind, trueClass: CLASSES[c.trueClass], predictedClass: CLASSES[c.predictedClass], confidence: c.confidence });
  }
  return {
    runName: 'pbc-8class-aplnet-s-seed0',
    generatedAt: '2025-01-01T12:00:00Z',
    dataset: {
      name: 'PBC 8-class subset',
      classNames: CLASSES,
      countsBySplit: { train: CLASSES.map(() => 210), validation: CLASSES.map(() => 45), test: CLASSES.map(() => 45) },
      credits: [{
        citation: 'Acevedo A, Merino A, Alférez S, Molina Á, Boldú L, Rodellar J. A dataset of microscopic peripheral blood cell images for development of automatic recognition systems. Data in Brief 30:105474 (2020)',
        doi: '10.1016/j.dib.2020.105474',
        license: 'CC BY 4.0',
      }],
    },
    trainingCurves: fakeCurves(30),
    evaluation: { splitName: 'test', ...evaluation },
    gallery,
    config: { model: 'aplnet-s', size: 128, epochs: 30, batch: 64, lr: 1e-3, optimizer: 'adamw', schedule: 'warmup-cosine', seed: 0, device: 'cpu' },
    modelCard: { modelName: 'aplnet-s', limitations: ['Normal peripheral blood cells only; no leukaemia images were in the training data.'] },
  };
}

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
