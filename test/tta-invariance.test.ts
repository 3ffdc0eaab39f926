import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createModel } from '../src/model/index.js';
import { applyView, arange, DIHEDRAL_VIEWS, dihedralBatch, manualSeed, meanOfViewMaps, randn, setNumThreads, tidy, undoView, type Tensor } from '../src/torch/index.js';
import { passInMode } from '../src/run/tta-pass.js';
import { assertClose } from './helpers/compare.js';

setNumThreads(1);

test('the eight dihedral views are distinct, and undoView turns each back exactly', () => {
  tidy(() => {
    const x = arange(2 * 3 * 5 * 5).reshape([2, 3, 5, 5]).to('float32');
    const seen = new Set<string>();
    for (const view of DIHEDRAL_VIEWS) {
      const turned = applyView(x, view);
      seen.add(turned.toArray().join(','));
      assert.deepEqual(undoView(turned, view).toArray(), x.toArray(), `view ${JSON.stringify(view)}`);
    }
    assert.equal(seen.size, 8);
    const batch = dihedralBatch(x);
    assert.deepEqual(batch.shape, [16, 3, 5, 5]);
    // Maps of the views turned back are the original map eight times over: their mean is the map.
    assert.deepEqual(meanOfViewMaps(batch.slice(1, 0, 1)).toArray(), x.slice(1, 0, 1).toArray());
  });
});

test('dihedral views refuse images that are not square', () => {
  tidy(() => assert.throws(() => applyView(randn([1, 3, 4, 6]), DIHEDRAL_VIEWS[1]), /square/));
});

/** The TTA pass of one model on images x, with the default map and Grad-CAM (freed by the caller's tidy). */
const ttaOutputs = (model: ReturnType<typeof createModel>, x: Tensor) => passInMode(model, x, ['attention-pool', 'gradcam'], 'on');

test('TTA output is invariant to a flip and a 90° rotation of the input, and its maps turn with the input', () => {
  manualSeed(11);
  const model = createModel('aplnet-s-ap', 4).eval();
  try {
    tidy(() => {
      const x = randn([2, 3, 48, 48]);
      const reference = ttaOutputs(model, x);
      const transforms: [string, (t: Tensor) => Tensor][] = [
        ['mirror', (t) => t.flip(3)],
        ['upside down', (t) => t.flip(2)],
        ['quarter turn', (t) => t.rot90(1, [2, 3])],
      ];
      for (const [name, g] of transforms) {
        const moved = ttaOutputs(model, g(x));
        assertClose(moved.logits, reference.logits, `${name}: logits`, { atol: 1e-4, rtol: 1e-4 });
        assertClose(moved.embeddings, reference.embeddings, `${name}: embeddings`, { atol: 1e-4, rtol: 1e-4 });
        assert.deepEqual(moved.explained, reference.explained, `${name}: explained class`);
        for (const method of ['attention-pool', 'gradcam'] as const) {
          assertClose(moved.maps[method]!.toArray(), g(reference.maps[method]!).toArray(), `${name}: ${method} map turns with the input`, { atol: 1e-4, rtol: 1e-3 });
        }
      }
      // Without TTA a random model is not invariant: the test above is not passing trivially.
      const plain = passInMode(model, x, [], 'off').logits;
      const plainMirrored = passInMode(model, x.flip(3), [], 'off').logits;
      assert.ok(plain.some((v, i) => Math.abs(v - plainMirrored[i]) > 1e-3), 'one view alone is already mirror-invariant');
    });
  } finally {
    model.dispose();
  }
});

test('TTA logits are the mean of the eight views’ logits', () => {
  manualSeed(12);
  const model = createModel('aplnet-s-ap', 3).eval();
  try {
    tidy(() => {
      const x = randn([1, 3, 32, 32]);
      const views = DIHEDRAL_VIEWS.map((view) => passInMode(model, applyView(x, view), [], 'off').logits);
      const mean = views[0].map((_, k) => views.reduce((sum, v) => sum + v[k], 0) / views.length);
      assertClose(passInMode(model, x, [], 'on').logits, mean, 'TTA logits', { atol: 1e-5, rtol: 1e-4 });
    });
  } finally {
    model.dispose();
  }
});

test('under TTA a class-specific map explains the averaged call, also when only some images of the batch have a view that disagrees', async () => {
  const { explain, meanMapOfViews, zeroNonFiniteMaps } = await import('../src/explain/index.js');
  const { cat, full } = await import('../src/torch/index.js');
  // Seed 13: with these random images, two of five have views that all call the averaged class, three do not.
  manualSeed(13);
  const model = createModel('aplnet-s-ap', 4).eval();
  try {
    tidy(() => {
      // Random images (an untrained model's views disagree on some) and a constant one (all its views are the same image).
      const x = cat([randn([5, 3, 32, 32]).mul(2), full([1, 3, 32, 32], 0.3)], 0);
      const n = 6;
      const pass = passInMode(model, x, ['evidence', 'gradcam'], 'on');
      const viewCalls = passInMode(model, dihedralBatch(x), [], 'off').logits;
      const callOf = (row: number) => { let b = 0; for (let k = 1; k < 4; k++) if (viewCalls[row * 4 + k] > viewCalls[row * 4 + b]) b = k; return b; };
      const disagree = Array.from({ length: n }, (_, i) => DIHEDRAL_VIEWS.some((_, v) => callOf(v * n + i) !== pass.explained[i]));
      assert.ok(disagree.some(Boolean) && !disagree.every(Boolean), `the batch mixes images whose views agree and disagree (${disagree})`);
      // Asked with a gradient map, the disagreeing views are remade; asked alone, the forward-only
      // evidence map is made at once for the averaged call from the same pass. Both must give the reference.
      const evidenceAlone = passInMode(model, x, ['evidence'], 'on');
      assert.deepEqual(evidenceAlone.explained, pass.explained);
      for (const [method, made] of [['evidence', pass], ['gradcam', pass], ['evidence', evidenceAlone]] as const) {
        // What the pass must equal: every view's map made for the image's averaged call, turned back and averaged.
        const checked = zeroNonFiniteMaps(explain(model, dihedralBatch(x), { method, target: DIHEDRAL_VIEWS.flatMap(() => pass.explained) }));
        const reference = meanMapOfViews(checked.maps);
        assertClose(made.maps[method]!.data<'float32'>(), reference.data<'float32'>(), `${method} maps`, { atol: 1e-4, rtol: 1e-3 });
        made.maps[method]!.dispose();
      }
    });
  } finally {
    model.dispose();
  }
});
