// `aplnet explain` on a folder, as a user runs it: every image's overlays, raw 16-bit maps that
// read back as the maps explain computes, the cell mask, and one CSV of the measures, with an
// unreadable file listed by reason while the rest are explained.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadImageForInference } from '../src/data/index.js';
import { inferenceImageToTensor } from '../src/data/to-tensor.js';
import { type ExplainMethod } from '../src/explain/index.js';
import { calibratedTtaMode, loadRun } from '../src/run/index.js';
import { runMaps } from '../src/run/ensemble-explain.js';
import { aplnet, PBC_DIR, TINY_CLASSES, trainTinyRunSync } from './helpers/tiny-run.js';

let root: string;
let run: string;
let folder: string;
const out = () => join(root, 'explained');

before(() => {
  ({ root, run } = trainTinyRunSync());
  folder = join(root, 'to-explain');
  // Three real images, one in a sub-folder (folders are searched recursively), and one broken file.
  mkdirSync(join(folder, 'more'), { recursive: true });
  TINY_CLASSES.forEach((name, i) => {
    const file = readdirSync(join(PBC_DIR, name)).sort()[20];
    copyFileSync(join(PBC_DIR, name, file), join(folder, i === 2 ? 'more' : '', file));
  });
  writeFileSync(join(folder, 'broken.jpg'), 'not a jpeg');
});

after(() => rmSync(root, { recursive: true, force: true }));

function parseCsv(text: string): { comments: string[]; rows: Record<string, string>[] } {
  const lines = text.trim().split('\n');
  const comments = lines.filter((l) => l.startsWith('#'));
  const [header, ...body] = lines.filter((l) => !l.startsWith('#')).map((l) => l.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/));
  return { comments, rows: body.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]]))) };
}

const mapNames = (row: Record<string, string>): string[] => Object.keys(row).filter((k) => k.endsWith('_cell_energy')).map((k) => k.replace(/_cell_energy$/, ''));

test('explain on a folder writes every image\'s files and one CSV, and names the unreadable file', async () => {
  const result = aplnet(['explain', run, folder, '--out', out(), '--steps', '4', '--threads', '2']);
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stderr, /broken\.jpg/);
  assert.match(result.stdout, /mean over 3 images/);
  const written = readdirSync(out());
  const stems = readdirSync(folder, { recursive: true }).map(String).filter((f) => f.endsWith('.jpg') && !f.includes('broken')).map((f) => f.split('/').pop()!.replace(/\.jpg$/, ''));
  assert.equal(stems.length, 3);
  for (const stem of stems) {
    for (const suffix of ['input.png', 'cell-mask.png', 'faithfulness.json', 'faithfulness.svg', 'random.map16.png', 'attention.overlay.png', 'gradcampp.heatmap.png']) {
      assert.ok(written.includes(`${stem}.${suffix}`), `${stem}.${suffix} missing from ${written.join(', ')}`);
    }
  }
  const { comments, rows } = parseCsv(readFileSync(join(out(), 'explain.csv'), 'utf8'));
  assert.ok(comments.some((c) => /value \/ 65535/.test(c)), 'the header comment gives the raw maps\' scale');
  assert.deepEqual(rows.map((r) => r.file.split('/').pop()), [...rows.slice(0, 3).map((r) => r.file.split('/').pop()), 'mean', 'broken.jpg']);
  assert.equal(rows[4].error_reason, 'not-an-image');
  assert.match(rows[4].error, /broken\.jpg/);
  // Every method the model can produce (whatever EXPLAIN_METHODS holds) and the random baseline.
  const names = mapNames(rows[0]);
  assert.ok(names.includes('random') && names.includes('gradcam') && names.length >= 3, names.join(', '));
  for (const row of rows.slice(0, 4)) {
    for (const name of names) {
      for (const measure of ['cell_energy', 'deletion_auc', 'insertion_auc']) {
        const value = Number(row[`${name}_${measure}`]);
        assert.ok(value >= 0 && value <= 1, `${row.file} ${name}_${measure} = ${row[`${name}_${measure}`]}`);
      }
    }
  }
});

test('each raw map PNG is 16-bit and reads back as explain\'s map within 1/65535; the mask is 0 or 255', async () => {
  const loaded = await loadRun(run);
  try {
    const { rows } = parseCsv(readFileSync(join(out(), 'explain.csv'), 'utf8'));
    for (const row of rows.slice(0, 3)) {
      const stem = row.file.split('/').pop()!.replace(/\.jpg$/, '');
      const x = inferenceImageToTensor(await loadImageForInference(row.file, loaded.inference));
      for (const method of mapNames(row).filter((name) => name !== 'random') as ExplainMethod[]) {
        // The run's own map: in the mode its calibration was fitted for (the dihedral mean under TTA).
        const map = runMaps(loaded, x, method, [loaded.classNames.indexOf(row.explained_class)], calibratedTtaMode(loaded));
        const expected = map.toArray();
        map.dispose();
        const png = sharp(join(out(), `${stem}.${method.replace(/\+/g, 'p')}.map16.png`));
        assert.equal((await png.metadata()).depth, 'ushort');
        const { data, info } = await png.toColourspace('grey16').raw({ depth: 'ushort' }).toBuffer({ resolveWithObject: true });
        const levels = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
        assert.equal(info.channels, 1);
        assert.equal(levels.length, expected.length);
        const worst = expected.reduce((w, v, p) => Math.max(w, Math.abs(levels[p] / 65535 - v)), 0);
        assert.ok(worst <= 1 / 65535, `${stem} ${method}: off by ${worst * 65535} levels`);
      }
      x.dispose();
      const mask = await sharp(join(out(), `${stem}.cell-mask.png`)).greyscale().raw().toBuffer();
      assert.ok(mask.every((v) => v === 0 || v === 255) && mask.some((v) => v === 255), `${stem}: mask is not 0/255 with a cell`);
    }
  } finally {
    loaded.model.dispose();
  }
});
