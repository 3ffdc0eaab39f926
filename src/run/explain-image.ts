// One explained image written out: the input as the model saw it, each method's overlay and heatmap
// (drawn by prediction-images.ts, as predict draws them), each raw map as a 16-bit grayscale PNG,
// the cell mask, and the deletion / insertion curves (faithfulness.json and .svg).
import { join } from 'node:path';
import sharp from 'sharp';
import type { ExplainMethod } from '../explain/index.js';
import { writeFileAtomic } from '../io/index.js';
import { faithfulnessChartSvg, type FaithfulnessSeries } from '../report/index.js';
import type { ExplainedImage } from './explain-batch.js';
import { heatmapPng, inputPng, overlayPng } from './prediction-images.js';

/** What a raw map's PNG means; said in --help, the CSV's header and the README. */
export const RAW_MAP_SCALE = 'each <name>.<method>.map16.png is a 16-bit grayscale PNG of the raw map at the model\'s input size: value / 65535 = the map\'s value in [0, 1] as explain returns it (read it as 16-bit, e.g. sharp(file).toColourspace(\'grey16\').raw({ depth: \'ushort\' })); <name>.cell-mask.png is 255 inside the nucleated cell, 0 outside';

/** A map with values in [0, 1] as a 16-bit grayscale PNG: value × 65535, rounded. */
export function rawMapPng(values: Float32Array, width: number, height: number): Promise<Buffer> {
  if (values.length !== width * height) throw new Error(`rawMapPng: ${values.length} values for a ${width}×${height} map`);
  const levels = Uint16Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 65535));
  return sharp(levels, { raw: { width, height, channels: 1 } }).toColourspace('grey16').png().toBuffer();
}

export function maskPng(mask: Uint8Array, width: number, height: number): Promise<Buffer> {
  return sharp(Uint8Array.from(mask, (v) => (v ? 255 : 0)), { raw: { width, height, channels: 1 } }).png().toBuffer();
}

/** The file-name form of a method ('gradcam++' → 'gradcampp'). */
export const methodFileName = (method: string): string => method.replace(/\+/g, 'p');

export interface ImageFilesOptions {
  opacity?: number;
  /** Fraction of pixels at each curve point, for the faithfulness files. */
  fractions: number[];
}

/** Writes the files of one explained image as <stem>.<what>.png etc. into outDir; returns their paths. */
export async function writeImageExplanation(image: ExplainedImage, outDir: string, stem: string, { opacity, fractions }: ImageFilesOptions): Promise<string[]> {
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array) => {
    const path = join(outDir, `${stem}.${name}`);
    writeFileAtomic(path, data);
    files.push(path);
  };
  const { prediction, mask } = image;
  const side = prediction.side;
  write('input.png', await inputPng(prediction));
  for (const [name, values] of Object.entries(image.maps)) {
    const file = methodFileName(name);
    if (name !== 'random') {
      const method = name as ExplainMethod;
      const drawn = { ...prediction, maps: { [method]: { data: values, width: side, height: side } } };
      write(`${file}.overlay.png`, await overlayPng(drawn, method, opacity === undefined ? {} : { opacity }));
      write(`${file}.heatmap.png`, await heatmapPng(drawn, method));
    }
    write(`${file}.map16.png`, await rawMapPng(values, side, side));
  }
  write('cell-mask.png', await maskPng(mask.data, side, side));

  const faithfulness = Object.fromEntries(Object.entries(image.curves).map(([name, curve]) => [name, {
    deletion: { fractions, probabilities: curve.deletion, auc: image.measures[name].deletion_auc },
    insertion: { fractions, probabilities: curve.insertion, auc: image.measures[name].insertion_auc },
  }]));
  const series: FaithfulnessSeries[] = Object.entries(faithfulness).flatMap(([method, f]) => (['deletion', 'insertion'] as const).map((mode) => ({ method, mode, ...f[mode] })));
  write('faithfulness.svg', await faithfulnessChartSvg(series, `${stem}: explained class ${image.explainedClass}`));
  const report = {
    file: prediction.file,
    predicted: prediction.predicted,
    refer: prediction.refer,
    explainedClass: image.explainedClass,
    probabilities: prediction.probabilities,
    cellMaskAreaFraction: mask.areaFraction,
    measures: image.measures,
    faithfulness,
  };
  write('faithfulness.json', `${JSON.stringify(report, null, 2)}\n`);
  return files;
}
