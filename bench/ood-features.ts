// What the out-of-distribution comparison needs from a run, for any list of images: each image's
// logits, embedding and image statistics, from the model's plain forward pass on the pixels the
// run's preprocessing gives (stain normalisation, channel normalisation), as predict feeds it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { applyStainNormalizer, decodeAndPreprocess, loadSplitFile, readSource, writeNormalizedChw, type RgbImage, type SplitName } from '../src/data/index.js';
import { imageStatistics } from '../src/eval/index.js';
import { runPath, type LoadedRun } from '../src/run/index.js';
import { fromTypedArray, noGrad, tidy } from '../src/torch/index.js';

export interface ImageFeatures {
  logits: Float32Array[];
  embeddings: Float32Array[];
  stats: Float64Array[];
}

/** The files split.json assigns to `split`, with their labels. */
export async function splitImages(run: LoadedRun, data: string, split: SplitName): Promise<{ paths: string[]; labels: number[] }> {
  const file = await loadSplitFile(runPath(run.dir, 'split'));
  const source = await readSource(data, { classNames: run.classNames });
  const chosen = source.samples.filter((sample) => file.assignments[sample.key] === split);
  if (chosen.length === 0) throw new Error(`no image of ${data} is in the ${split} split of ${runPath(run.dir, 'split')}: is this the data the run was trained on?`);
  return { paths: chosen.map((s) => s.path), labels: chosen.map((s) => run.classNames.indexOf(s.label)) };
}

/** The images decoded and brought to the run's input size, before stain normalisation (what an OOD generator starts from). */
export async function decodeForRun(run: LoadedRun, paths: readonly string[]): Promise<RgbImage[]> {
  const images: RgbImage[] = [];
  for (const path of paths) images.push(await decodeAndPreprocess(await readFile(path), path, run.inference.preprocessing, run.inference.limits));
  return images;
}

/** The photographs of test/fixtures/ood (any size, RGB). */
export async function fixturePhotos(root: string, names: readonly string[]): Promise<RgbImage[]> {
  return Promise.all(names.map(async (name) => {
    const { data, info } = await sharp(join(root, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { pixels: new Uint8Array(data), width: info.width, height: info.height };
  }));
}

export function featuresOf(run: LoadedRun, images: readonly RgbImage[], batchSize = 64): ImageFeatures {
  const side = run.inference.preprocessing.size;
  const plane = 3 * side * side;
  const out: ImageFeatures = { logits: [], embeddings: [], stats: [] };
  const device = run.model.parameters()[0]?.device ?? 'cpu';
  for (let first = 0; first < images.length; first += batchSize) {
    const batch = images.slice(first, first + batchSize);
    const x = new Float32Array(batch.length * plane);
    batch.forEach((image, i) => writeNormalizedChw(applyStainNormalizer(run.inference.stainNormalizer, image.pixels), run.inference.channelStats, x, i * plane));
    const { logits, embeddings, size } = tidy(() => noGrad(() => {
      const result = run.model.forward(fromTypedArray(x, [batch.length, 3, side, side], { device }));
      return { logits: result.logits.to('float32').data<'float32'>(), embeddings: result.embedding.to('float32').data<'float32'>(), size: result.embedding.shape[1] };
    }));
    const classes = run.classNames.length;
    batch.forEach((_, i) => {
      out.logits.push(logits.slice(i * classes, (i + 1) * classes));
      out.embeddings.push(embeddings.slice(i * size, (i + 1) * size));
      out.stats.push(imageStatistics(x, i * plane, side, run.inference.channelStats));
    });
  }
  return out;
}
