import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { colormapTable, contourMask, explain, heatMapOf, renderHeatmap, renderOverlay, resizeHeatMap } from '../src/explain/index.js';
import { createModel } from '../src/model/index.js';
import { randn, setNumThreads } from '../src/torch/index.js';

setNumThreads(2);

function gradientImage(width: number, height: number): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set([p % 256, 128, 255 - (p % 256)], p * 3);
  return { data, width, height };
}

test('overlays of real explanation maps are PNGs of the input image size, with and without contour', async () => {
  const model = createModel('aplnet-s', 3);
  const images = randn([1, 3, 144, 144]);
  try {
    for (const method of ['attention', 'gradcam'] as const) {
      const maps = explain(model, images, { method });
      const map = heatMapOf(maps, 0);
      maps.dispose();
      // The original picture is larger than the model input: the map is resized to it.
      for (const options of [{ colormap: 'viridis' as const, opacity: 0.5 }, { colormap: 'turbo' as const, opacity: 0.3, contour: true }]) {
        const png = await renderOverlay(gradientImage(200, 180), map, options);
        const meta = await sharp(png).metadata();
        assert.equal(meta.format, 'png');
        assert.deepEqual([meta.width, meta.height, meta.channels], [200, 180, 3]);
      }
      const heat = await sharp(await renderHeatmap(map, { colormap: 'viridis' })).metadata();
      assert.deepEqual([heat.format, heat.width, heat.height], ['png', 144, 144]);
    }
  } finally {
    images.dispose();
    model.dispose();
  }
});

test('opacity 0 keeps the image; at opacity 1 a map value of 1 is the colormap and 0 is the image; the contour is dark inside, white outside', async () => {
  const image = gradientImage(4, 2);
  const map = { data: Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1]), width: 4, height: 2 };
  const decode = async (png: Buffer): Promise<Uint8Array> => new Uint8Array(await sharp(png).raw().toBuffer());
  assert.deepEqual(await decode(await renderOverlay(image, map, { opacity: 0 })), image.data);
  const full = await decode(await renderOverlay(image, map, { opacity: 1, colormap: 'viridis' }));
  const table = colormapTable('viridis');
  assert.deepEqual([...full.subarray(0, 3)], [...image.data.subarray(0, 3)], 'a low value is not painted');
  assert.deepEqual([...full.subarray(6, 9)], [...table.subarray(255 * 3, 256 * 3)]);
  const outlined = await decode(await renderOverlay(image, map, { opacity: 0, contour: true }));
  assert.deepEqual([...outlined.subarray(6, 9)], [0, 0, 0]);
  assert.deepEqual([...outlined.subarray(3, 6)], [255, 255, 255]);
  assert.deepEqual([...contourMask(map, 0.5)], [0, 0, 1, 0, 0, 0, 1, 0]);
  await assert.rejects(renderOverlay(image, map, { opacity: 2 }), /opacity must be in \[0, 1\]/);
});

test('colormaps run dark-to-bright from their published endpoints', () => {
  const viridis = colormapTable('viridis');
  assert.deepEqual([...viridis.subarray(0, 3)].map((v) => Math.round(v / 10)), [7, 0, 9]); // #440154
  assert.deepEqual([...viridis.subarray(765, 768)].map((v) => Math.round(v / 10)), [25, 23, 3]); // #fde725
  assert.throws(() => colormapTable('jet' as 'turbo'), /unknown colormap "jet"/);
});

test('resizeHeatMap samples like PyTorch bilinear (align_corners=false)', () => {
  const resized = resizeHeatMap({ data: Float32Array.from([0, 1]), width: 2, height: 1 }, 4, 1);
  assert.deepEqual([...resized.data], [0, 0.25, 0.75, 1]);
});
