// The measures of issue 10 on cases whose answer is known by hand: cell energy, flatness (CV), rank
// correlation, Otsu, the mask's morphology, and the cell mask itself on a synthetic cell.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cellEnergy, coefficientOfVariation, spearmanCorrelation, otsuThreshold, haematoxylinDensity, componentNearest, fillHoles, convexHull, dilate, cellMask,
  mapRankCorrelations, type BinaryMask,
} from '../src/explain/index.js';
import { close } from './helpers/six-images.js';

const maskOf = (rows: string[]): BinaryMask => ({ data: Uint8Array.from(rows.join(''), (c) => (c === '#' ? 1 : 0)), width: rows[0].length, height: rows.length });
const rowsOf = ({ data, width }: BinaryMask): string[] => Array.from({ length: data.length / width }, (_, y) => Array.from(data.subarray(y * width, (y + 1) * width), (v) => (v ? '#' : '.')).join(''));

test('cell energy: a map equal to the mask scores 1, a uniform map the mask\'s area fraction, an empty map 0', () => {
  const mask = Uint8Array.from({ length: 100 }, (_, p) => (p % 10 < 3 && p < 50 ? 1 : 0)); // 15 of 100 pixels
  close(cellEnergy(Float32Array.from(mask), mask), 1);
  close(cellEnergy(new Float32Array(100).fill(0.4), mask), 0.15);
  assert.equal(cellEnergy(new Float32Array(100), mask), 0);
  // Only positive mass counts: negative values outside do not lift the share above 1.
  close(cellEnergy(Float32Array.from(mask, (v) => (v ? 1 : -1)), mask), 1);
  assert.throws(() => cellEnergy(new Float32Array(4), mask), /4 values and the mask 100/);
});

test('coefficient of variation: 0 for a flat map and for an all-zero map, std/mean otherwise', () => {
  assert.equal(coefficientOfVariation(new Float32Array(64).fill(0.7)), 0);
  assert.equal(coefficientOfVariation(new Float32Array(64)), 0);
  close(coefficientOfVariation([0, 2]), 1);
  close(coefficientOfVariation([1, 2, 3, 4]), Math.sqrt(1.25) / 2.5);
});

test('Spearman correlation: 1 for the same order, -1 reversed, scipy\'s value with ties, 0 against a constant', () => {
  close(spearmanCorrelation([1, 2, 3, 4], [10, 20, 30, 400]), 1);
  close(spearmanCorrelation([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  close(spearmanCorrelation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]), 0.8207826816681233); // scipy.stats.spearmanr
  assert.equal(spearmanCorrelation([1, 2, 3], [5, 5, 5]), 0);
  const a = Float32Array.from({ length: 8 }, (_, i) => i);
  assert.deepEqual(mapRankCorrelations(Float32Array.of(...a, ...a), Float32Array.of(...a, ...a.reverse()), 2).map((r) => Math.round(r * 1e9) / 1e9), [1, -1]);
});

test('Otsu splits two clusters between them and leaves one value alone', () => {
  const values = [...new Array(50).fill(0.1), ...new Array(30).fill(0.9)];
  const t = otsuThreshold(values);
  assert.ok(t > 0.1 && t < 0.9, `threshold ${t}`);
  assert.equal(otsuThreshold([0.5, 0.5]), 0.5);
});

test('haematoxylin density is about 0 on white and high on purple, low on pink', () => {
  const [white, purple, pink] = haematoxylinDensity({ pixels: Uint8Array.of(255, 255, 255, 90, 50, 150, 235, 180, 190), width: 3, height: 1 });
  assert.ok(Math.abs(white) < 1e-9, `white ${white}`);
  assert.ok(purple > 0.5 && pink < 0.2 * purple, `purple ${purple}, pink ${pink}`);
});

test('morphology: the component at the centre or nearest it, holes filled, convex hull, octagonal growth', () => {
  const two = maskOf(['##.....', '##.....', '.......', '....###', '....###']);
  assert.deepEqual(rowsOf(componentNearest(two, 5, 4)), ['.......', '.......', '.......', '....###', '....###']);
  assert.deepEqual(rowsOf(componentNearest(two, 1, 2)), ['##.....', '##.....', '.......', '.......', '.......']);
  assert.deepEqual(rowsOf(componentNearest(two, 5, 4, 7)), rowsOf({ ...two, data: new Uint8Array(35) }), 'components under minArea are not cells');
  assert.deepEqual(rowsOf(fillHoles(maskOf(['.....', '.###.', '.#.#.', '.###.', '.....']))), ['.....', '.###.', '.###.', '.###.', '.....']);
  // Pixels whose centre lies inside the hull of the pixels' corners.
  assert.deepEqual(rowsOf(convexHull(maskOf(['#....', '#....', '#####']))), ['##...', '####.', '#####']);
  assert.deepEqual(rowsOf(dilate(maskOf(['.....', '.....', '..#..', '.....', '.....']), 2)), ['.###.', '#####', '#####', '#####', '.###.']);
});

/** A pink background with a dark purple disc of radius r at (cx, cy), optionally with a pale hole of radius hole in it. */
function syntheticCell(side: number, discs: { cx: number; cy: number; r: number; hole?: number }[]): Uint8Array {
  const pixels = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let colour = [235, 190, 200];
      for (const { cx, cy, r, hole = 0 } of discs) {
        const d = Math.hypot(x - cx, y - cy);
        if (d <= r) colour = d < hole ? [240, 230, 240] : [90, 50, 150];
      }
      pixels.set(colour, (y * side + x) * 3);
    }
  }
  return pixels;
}

test('the cell mask of a dark purple disc on pink is the disc, filled, slightly grown; an off-centre disc is left out', () => {
  const side = 144;
  const c = (side - 1) / 2;
  const r = 20;
  const mask = cellMask({ pixels: syntheticCell(side, [{ cx: c, cy: c, r, hole: 5 }, { cx: 15, cy: 15, r: 10 }]), width: side, height: side });
  let missing = 0;
  let farthest = 0;
  for (let p = 0; p < mask.data.length; p++) {
    const x = p % side;
    const d = Math.hypot(x - c, (p - x) / side - c);
    if (d <= r && !mask.data[p]) missing++;
    if (mask.data[p]) farthest = Math.max(farthest, d);
  }
  assert.equal(missing, 0, 'every pixel of the disc, its pale centre included, is in the mask');
  assert.ok(farthest > r && farthest <= r + 0.05 * side + 4, `grown to ${farthest.toFixed(1)} px from the centre, disc radius ${r}`);
  assert.equal(mask.data[15 * side + 15], 0, 'the other disc is not the centred cell');
  close(mask.areaFraction, mask.data.reduce((a, v) => a + v, 0) / (side * side));
});
