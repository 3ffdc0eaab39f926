// The drawing a person reads: colour whose opacity follows the map's value, an outline at a
// quantile, and the panel original | overlay | legend, with the web page kept equal to the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import {
  colormapTable, contourMask, DEFAULT_COLORMAP, DEFAULT_FLOOR, DEFAULT_OPACITY, legendGradientCss, LEGEND_WIDTH, paintOverlay, panelLayout,
  quantileLevel, renderExplanationPanel, renderHeatmap, renderLegend, valueAlpha, type HeatMap,
} from '../src/explain/index.js';

const SIDE = 64;

/** A smear-like picture: pale background, a dark round "nucleus" in the middle. */
function cellImage(side = SIDE): { data: Uint8Array; width: number; height: number } {
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inside = Math.hypot(x - side / 2, y - side / 2) < side / 5;
      data.set(inside ? [80, 40, 130] : [240, 215, 200], (y * side + x) * 3);
    }
  }
  return { data, width: side, height: side };
}

const constantMap = (value: number, side = SIDE): HeatMap => ({ data: new Float32Array(side * side).fill(value), width: side, height: side });

/** A smooth bump with a distinct value at every radius. */
function bumpMap(side = SIDE): HeatMap {
  const data = new Float32Array(side * side);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) data[y * side + x] = Math.exp(-(((x - 40) ** 2) + ((y - 24) ** 2)) / 200);
  return { data, width: side, height: side };
}

test('a map of zeros leaves the image unchanged; a map of ones is the colormap at the set opacity', () => {
  const image = cellImage();
  assert.deepEqual(paintOverlay(image, constantMap(0)), image.data);
  const top = colormapTable(DEFAULT_COLORMAP).subarray(255 * 3);
  for (const opacity of [0.3, DEFAULT_OPACITY, 1]) {
    const painted = paintOverlay(image, constantMap(1), { opacity });
    for (let i = 0; i < image.data.length; i++) {
      assert.equal(painted[i], Math.round((1 - opacity) * image.data[i] + opacity * top[i % 3]), `byte ${i} at opacity ${opacity}`);
    }
  }
});

test('colour opacity follows the value: nothing at or below the floor, rising to full at 1', () => {
  assert.equal(valueAlpha(0, DEFAULT_FLOOR), 0);
  assert.equal(valueAlpha(DEFAULT_FLOOR, DEFAULT_FLOOR), 0);
  assert.equal(valueAlpha(1, DEFAULT_FLOOR), 1);
  assert.equal(valueAlpha(Number.NaN, DEFAULT_FLOOR), 0);
  assert.ok(Math.abs(valueAlpha(0.6, 0.2) - 0.5) < 1e-9);
  const image = cellImage();
  const background = image.data.subarray(0, 3);
  // Same colour index, so only the strength of the colour can differ between the two values.
  const at = (v: number) => [...paintOverlay({ data: background, width: 1, height: 1 }, { data: Float32Array.of(v), width: 1, height: 1 }, { opacity: 1 })];
  const distance = (rgb: number[]) => Math.hypot(...rgb.map((c, i) => c - background[i]));
  assert.ok(distance(at(0.4)) < distance(at(0.8)), 'a higher value is painted more strongly');
});

test('the contour at quantile q encloses about the top 1 − q of the pixels', async () => {
  const map = bumpMap();
  for (const q of [0.5, 0.8, 0.9, 0.95]) {
    const level = quantileLevel(map, q);
    const inside = map.data.filter((v) => v >= level).length / map.data.length;
    assert.ok(Math.abs(inside - (1 - q)) < 0.01, `q ${q}: ${inside} of the pixels inside`);
  }
  // The drawn line is the boundary of that region, in black, on the overlay.
  const image = cellImage();
  const drawn = paintOverlay(image, map, { opacity: 0, contourQuantile: 0.9 });
  const line = contourMask(map, quantileLevel(map, 0.9));
  let black = 0;
  for (let p = 0; p < SIDE * SIDE; p++) if (drawn[p * 3] === 0 && drawn[p * 3 + 1] === 0 && drawn[p * 3 + 2] === 0) black++;
  assert.equal(black, line.reduce((a, b) => a + b, 0));
  assert.ok(black > 10, 'a visible line');
  assert.deepEqual(paintOverlay(image, constantMap(0.5), { opacity: 0, contourQuantile: 0.9 }), image.data, 'a flat map has no line');
  assert.throws(() => quantileLevel(map, 1.5), /quantile must be in \[0, 1\]/);
});

test('the panel is original | overlay | legend at the image size, with captions above', async () => {
  const image = cellImage();
  const map = bumpMap();
  const layout = panelLayout(SIDE, SIDE);
  const png = await renderExplanationPanel(image, map, { method: 'attention', contourQuantile: 0.9 });
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([info.width, info.height], [layout.width, layout.height]);
  assert.ok(layout.original.left + SIDE < layout.overlay.left && layout.overlay.left + SIDE < layout.legend!.left, 'side by side, in that order');
  assert.equal(layout.width - layout.legend!.left - LEGEND_WIDTH >= 0, true);
  const region = (left: number, top: number, width: number, height: number): Uint8Array => {
    const out = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) out.set(data.subarray(((top + y) * info.width + left) * 3, ((top + y) * info.width + left + width) * 3), y * width * 3);
    return out;
  };
  assert.deepEqual(region(layout.original.left, layout.original.top, SIDE, SIDE), image.data, 'the original, untouched');
  assert.deepEqual(region(layout.overlay.left, layout.overlay.top, SIDE, SIDE), paintOverlay(image, map, { contourQuantile: 0.9 }), 'the overlay');
  // The legend's bar carries the colormap's top colour (its "1 high" end).
  const legend = region(layout.legend!.left, layout.legend!.top, LEGEND_WIDTH, layout.legend!.height);
  const top = colormapTable(DEFAULT_COLORMAP).subarray(255 * 3);
  let topColour = 0;
  for (let p = 0; p < legend.length; p += 3) if (Math.abs(legend[p] - top[0]) < 30 && Math.abs(legend[p + 1] - top[1]) < 30 && Math.abs(legend[p + 2] - top[2]) < 30) topColour++;
  assert.ok(topColour > 30, `the legend shows the scale (${topColour} px of its top colour)`);
  const bare = await sharp(await renderExplanationPanel(image, map, { method: 'attention', legend: false })).metadata();
  const bareLayout = panelLayout(SIDE, SIDE, false);
  assert.deepEqual([bare.width, bare.height], [bareLayout.width, bareLayout.height]);
});

test('the legend alone is a PNG with text and the scale; a bad floor is refused', async () => {
  const { data, info } = await sharp(await renderLegend({ method: 'gradcam' }, 160)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.height, 160);
  let dark = 0;
  for (let p = 0; p < data.length; p += 3) if (data[p] < 60 && data[p + 1] < 60 && data[p + 2] < 60) dark++;
  assert.ok(dark > 50, `the labels are drawn (${dark} dark px)`);
  assert.throws(() => legendGradientCss(DEFAULT_COLORMAP, 2), /floor must be in \[0, 1\]/);
});

test("the page's layer (RGBA heatmap at opacity a) blends to the CLI's overlay, and the page uses the CLI's scale and defaults", async () => {
  const image = cellImage();
  const map = bumpMap();
  const { data: layer, info } = await sharp(await renderHeatmap(map, { valueAlpha: true })).raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  const opacity = DEFAULT_OPACITY;
  const cli = paintOverlay(image, map, { opacity });
  for (let p = 0; p < SIDE * SIDE; p++) {
    const a = opacity * layer[p * 4 + 3] / 255;
    for (let ch = 0; ch < 3; ch++) {
      const page = (1 - a) * image.data[p * 3 + ch] + a * layer[p * 4 + ch];
      assert.ok(Math.abs(page - cli[p * 3 + ch]) <= 2, `pixel ${p} channel ${ch}: page ${page}, CLI ${cli[p * 3 + ch]}`);
    }
  }
  const css = readFileSync(new URL('../../src/serve/public/app.css', import.meta.url), 'utf8');
  assert.ok(css.includes(`--legend-gradient: ${legendGradientCss()};`), 'app.css carries the legend gradient legendGradientCss() makes (regenerate it if the colormap or floor changed)');
  const settings = readFileSync(new URL('../../src/serve/public/overlay-settings.js', import.meta.url), 'utf8');
  assert.match(settings, new RegExp(`DEFAULT_OPACITY = ${DEFAULT_OPACITY};`));
  assert.match(settings, new RegExp(`MAP_FLOOR = ${DEFAULT_FLOOR};`));
});
