// The report tests' shared input: an 8-class PBC-like evaluation with fake but realistic logits,
// training curves and a gallery of real PBC crops when ../shared/data is there.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { evaluateWithTemperatureScaling, softmaxRows } from '../src/eval/index.js';
import { selectGalleryCases, type GalleryImage, type ReportInput, type TrainingCurveRow } from '../src/report/index.js';
import { mulberry32 } from '../src/data/prng.js';

export const CLASSES = ['basophil', 'eosinophil', 'erythroblast', 'ig', 'lymphocyte', 'monocyte', 'neutrophil', 'platelet'];
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
export function fakeLogits(perClass: number, seed: number) {
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

export async function fakeReportInput(patientIds?: string[]): Promise<ReportInput> {
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
    galleryMap: 'gradient-weighted attention (attention-grad)',
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
