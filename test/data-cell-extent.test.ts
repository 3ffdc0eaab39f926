// How much of the crop the cell fills: the measure on drawn cells and real ones, and what train
// says about --zoom from it (a warning when the zoom cuts cells, a note when it could be higher).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { autoZoom, CellExtentAccumulator, cellExtentAdvice, stainedExtent, TOUCHING, type CellExtentSummary } from '../src/data/cell-extent.js';
import { decodeAndPreprocess } from '../src/data/decode/image-decode.js';
import { formatDataSummary, type DataSummary } from '../src/data/data-summary.js';
import { realImages } from './data-fixtures.js';

const SIDE = 144;
const BACKGROUND = [240, 228, 232];
const PURPLE = [100, 60, 160];

/** A light smear background with purple discs [cx, cy, r]. */
function drawn(discs: Array<[number, number, number]>): Uint8Array {
  const pixels = new Uint8Array(SIDE * SIDE * 3);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const inside = discs.some(([cx, cy, r]) => (x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2 <= r * r);
      pixels.set(inside ? PURPLE : BACKGROUND, 3 * (y * SIDE + x));
    }
  }
  return pixels;
}

test('the extent is the stained part nearest the centre, joined across small gaps, as a share of the half side', () => {
  const half = SIDE / 2;
  const centred = stainedExtent(drawn([[half, half, 30]]), SIDE)!;
  assert.ok(Math.abs(centred - 30 / half) < 0.02, `a disc of radius 30: ${centred}`);
  // Another cell in the corner is not part of the centred one.
  assert.equal(stainedExtent(drawn([[half, half, 30], [10, 10, 8]]), SIDE), centred);
  // Two lobes 2 px apart are one nucleus: the extent reaches the far lobe's edge.
  const lobes = stainedExtent(drawn([[half - 10, half, 12], [half + 14, half, 10]]), SIDE)!;
  assert.ok(Math.abs(lobes - 24 / half) < 0.02, `two lobes: ${lobes}`);
  // 12 px apart they are two things: the extent is the centred lobe's own.
  const apart = stainedExtent(drawn([[half - 10, half, 12], [half + 24, half, 10]]), SIDE)!;
  assert.ok(Math.abs(apart - 22 / half) < 0.02, `two things: ${apart}`);
  assert.equal(stainedExtent(drawn([]), SIDE), null, 'nothing stained: no extent');
  assert.ok(stainedExtent(drawn([[half, half, 200]]), SIDE)! >= TOUCHING, 'a cell over the whole crop reaches the border');
  assert.throws(() => stainedExtent(new Uint8Array(10), SIDE), /10 values for a 144×144/);
});

test('real cells of the PBC dataset fill the middle of their crops, more of it when zoomed', async () => {
  const [file] = await realImages('neutrophil', 1);
  const bytes = await readFile(file);
  const whole = await decodeAndPreprocess(bytes, file, { size: SIDE, resize: 'center-crop' });
  const zoomed = await decodeAndPreprocess(bytes, file, { size: SIDE, resize: 'center-crop', zoom: 1.5 });
  const [a, b] = [stainedExtent(whole.pixels, SIDE)!, stainedExtent(zoomed.pixels, SIDE)!];
  assert.ok(a > 0.15 && a < 0.7, `whole crop: ${a}`);
  assert.ok(Math.abs(b - 1.5 * a) < 0.1, `zoom 1.5 scales the extent by 1.5: ${a} → ${b}`);
});

const summary = (over: Partial<CellExtentSummary>): CellExtentSummary => ({ measured: 200, stained: 200, median: 0.38, p95: 0.58, touching: 0, ...over });

test('train advises on --zoom from the training cells: more room, cut cells, or nothing', () => {
  const room = cellExtentAdvice(summary({}), 1)!;
  assert.equal(room.warning, false);
  assert.match(room.text, /median; 95th percentile 58%.*--zoom 1\.5 would give the cells more pixels/);
  assert.equal(cellExtentAdvice(summary({ median: 0.56, p95: 0.85, touching: 0.02 }), 1.5), null, 'a zoom that suits the cells: nothing to say');
  const cut = cellExtentAdvice(summary({ median: 0.92, p95: 0.99, touching: 0.41 }), 2.5)!;
  assert.equal(cut.warning, true);
  assert.match(cut.text, /^41% of the training cells reach the border of the input at --zoom 2\.5: it cuts them; lower it/);
  assert.match(cellExtentAdvice(summary({ touching: 0.3, p95: 1 }), 1)!.text, /the crops cut them/);
  assert.equal(cellExtentAdvice(summary({ stained: 150 }), 1), null, 'a stain the measure does not know (few stained images): nothing said');
  assert.equal(cellExtentAdvice(null, 1), null);

  const accumulator = new CellExtentAccumulator(3);
  for (let i = 0; i < 5; i++) accumulator.add(drawn([[72, 72, 20 + 5 * i]]), SIDE);
  const measured = accumulator.result()!;
  assert.equal(measured.measured, 3, 'only the first `limit` images are measured');
  assert.ok(Math.abs(measured.median - 25 / 72) < 0.02);

  const data: DataSummary = { listed: 1, loaded: 1, skipped: {}, skippedImages: [], skippedPerSplit: { train: 0, val: 0, test: 0, unassigned: 0 }, converted: {}, perClass: { a: 1 }, perSplit: { train: 1, val: 0, test: 0 }, warnings: [cut.text], notes: [room.text], cacheHits: 0, decoded: 1 };
  const lines = formatDataSummary(data).split('\n');
  assert.ok(lines.includes(`warning: ${cut.text}`) && lines.includes(`note: ${room.text}`), lines.join('\n'));
});

test('--zoom auto takes the zoom the advice names, and the whole crop whenever the measure cannot vouch for more', () => {
  const room = autoZoom(summary({}));
  assert.equal(room.zoom, 1.5, 'p95 0.58: 1.5 keeps 95% whole (1.75 would not: 0.58 × 1.75 > 1)');
  assert.match(room.reason, /95th percentile 58%\) in 200 training images at zoom 1; 1\.5 gives them more pixels .* keeps 95% of them whole/);
  assert.match(cellExtentAdvice(summary({}), 1)!.text, /--zoom 1\.5 would/, 'the note and auto name the same zoom');
  assert.equal(autoZoom(summary({ median: 0.1, p95: 0.2 })).zoom, 4, 'tiny cells: capped at the largest zoom');
  assert.equal(autoZoom(summary({ p95: 0.3 })).zoom, 3.25, 'rounded down to a quarter');
  const full = autoZoom(summary({ median: 0.6, p95: 0.85 }));
  assert.equal(full.zoom, 1);
  assert.match(full.reason, /the cells already fill it/);
  const cut = autoZoom(summary({ p95: 0.5, touching: 0.3 }));
  assert.equal(cut.zoom, 1, 'crops that already cut cells are not zoomed further');
  assert.match(cut.reason, /30% of the training cells already reach its border/);
  const unknown = autoZoom(summary({ stained: 150 }));
  assert.equal(unknown.zoom, 1, 'a stain the measure does not know: the whole crop');
  assert.match(unknown.reason, /finds a Romanowsky\/MGG-stained cell in 150 of 200 training images \(it needs 90%\)/);
  assert.equal(autoZoom(null).zoom, 1);
});
