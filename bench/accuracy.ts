// `npm run bench -- accuracy`: the default recipe's accuracy on pbc-8class, split holdout with
// --seed (0): one model (one view and with TTA), an ensemble of k folds of the same recipe trained
// on the train + val part only, and one student distilled from that ensemble; all three tested on
// the same held-out test images, which no model trained or validated on (checked by path and
// content). Runs given by --run, --ensemble and --student are reused (read only, never changed);
// anything not given is trained inside, into --out. It says which was which.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readSource } from '../src/data/index.js';
import { accuracy, confusionMatrix, macroF1, perClassMetrics, predictedClasses, rowsFromFlat } from '../src/eval/index.js';
import { defaultExplainMethod } from '../src/explain/index.js';
import {
  disposeRun, distillTeacher, evaluateRun, imagesLearnedFrom, loadRun, modelsOnDataset, predictImages, refitOodWhereNeeded, refuseOverlap, type LoadedRun, type TtaMode,
} from '../src/run/index.js';
import { setNumThreads } from '../src/torch/index.js';
import { DEFAULT_TTA, readMetricsLog, runPath, sha256OfFile, trainFolds, trainRun } from '../src/train/index.js';

export interface BenchAccuracyOptions {
  data?: string;
  seed?: number;
  /** A trained single run of the recipe on `data` with this seed's holdout split (reused). */
  run?: string;
  /** A folds folder trained on the train + val part of that split (reused). */
  ensemble?: string;
  /** A student distilled from that ensemble (reused), or 'none' to leave the student out. */
  student?: string;
  /** Where runs trained inside, the split's manifests and the latency copy go. */
  out?: string;
  folds?: number;
  /** Epochs of whatever is trained inside (default: the recipe's). */
  epochs?: number;
  threads?: number;
  repeats?: number;
}

interface Figures {
  accuracy: number;
  macro_f1: number;
  weakest_class: string;
  weakest_f1: number;
}

function figures(probabilities: Float64Array | Float32Array, labels: Int32Array, classNames: string[]): Figures {
  const rows = rowsFromFlat(probabilities, classNames.length);
  const matrix = confusionMatrix(Array.from(labels), predictedClasses(rows), classNames.length);
  const perClass = perClassMetrics(matrix, classNames);
  const weakest = perClass.reduce((a, b) => (b.f1 < a.f1 ? b : a));
  return { accuracy: accuracy(matrix), macro_f1: macroF1(perClass), weakest_class: weakest.className, weakest_f1: weakest.f1 };
}

/** The held-out test images and the train + val images of a single run's split, as manifests without a split column. */
function splitManifests(run: string, data: string, out: string): { trainval: string; test: string; testCount: number } {
  const split = JSON.parse(readFileSync(runPath(run, 'split'), 'utf8')) as { spec: { kind: string }; assignments: Record<string, string> };
  if (split.spec.kind !== 'holdout') throw new Error(`${run} was not split holdout (${split.spec.kind}); give a run trained with the default split`);
  const root = resolve(data);
  const lines = { trainval: ['path,label'], test: ['path,label'] };
  for (const [key, name] of Object.entries(split.assignments).sort()) lines[name === 'test' ? 'test' : 'trainval'].push(`${join(root, key)},${key.split('/')[0]}`);
  const trainval = join(out, 'trainval.csv');
  const test = join(out, 'test.csv');
  writeFileSync(trainval, `${lines.trainval.join('\n')}\n`);
  writeFileSync(test, `${lines.test.join('\n')}\n`);
  return { trainval, test, testCount: lines.test.length - 1 };
}

/** A run's calibrated answers on every image of `manifest` in its own mode, after checking it never learned from them. */
async function testFigures(run: LoadedRun, manifest: string): Promise<Figures & { tta: TtaMode }> {
  const source = await readSource(manifest, { classNames: run.classNames });
  const learned = (await Promise.all((run.members ?? [run]).map(imagesLearnedFrom))).flat();
  refuseOverlap(source.samples.map((s) => s.path), learned, run.dir, manifest);
  const tta = run.calibration!.tta;
  const { perModel, calibrated } = await modelsOnDataset(run, manifest, tta, {});
  return { ...figures(calibrated, perModel[0].labels, run.classNames), tta };
}

/** Median wall time of predict + the default map for one image through the prediction core. */
async function predictMs(run: LoadedRun, image: string, threads: number, repeats: number): Promise<number> {
  setNumThreads(threads);
  const maps = [defaultExplainMethod(run.model)];
  for (let i = 0; i < 3; i++) await predictImages(run, [image], { maps });
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    const [result] = await predictImages(run, [image], { maps });
    times.push(performance.now() - started);
    if (!result.ok) throw new Error(`predict failed on ${image}: ${result.message}`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
}

/**
 * The single run copied and calibrated for `tta` (the copy's evaluate refits temperature and OOD
 * check), for latency; a copy left by an earlier call for the same weights and mode is reused.
 */
export async function calibratedCopy(run: string, out: string, tta: TtaMode): Promise<LoadedRun> {
  const copy = join(out, `latency-${tta}`);
  if (existsSync(copy)) {
    const kept = await loadRun(copy).catch(() => null);
    if (kept && kept.calibration?.tta === tta && kept.weightsSha256 === sha256OfFile(runPath(run, 'bestWeights'))) return kept;
    if (kept) disposeRun(kept);
  }
  rmSync(copy, { recursive: true, force: true });
  cpSync(run, copy, { recursive: true });
  rmSync(join(copy, '.lock'), { force: true });
  const loaded = await loadRun(copy, { calibration: 'optional' });
  await evaluateRun(loaded, 'cpu', { tta, log: () => {} });
  await refitOodWhereNeeded(loaded, 'cpu', { log: () => {} });
  disposeRun(loaded);
  return loadRun(copy);
}

const log = (line: string) => console.error(line);

export async function benchAccuracy(o: BenchAccuracyOptions): Promise<Record<string, unknown>> {
  const data = o.data ?? '../shared/data/pbc-8class';
  const seed = o.seed ?? 0;
  const out = resolve(o.out ?? 'bench/.cache/accuracy');
  const threads = o.threads ?? 2;
  const folds = o.folds ?? 5;
  const epochs = o.epochs === undefined ? {} : { epochs: o.epochs };
  mkdirSync(out, { recursive: true });
  setNumThreads(threads);
  const provenance: Record<string, string> = {};

  // One model of the recipe.
  let runDir = o.run ? resolve(o.run) : join(out, 'single');
  let trainSeconds: number;
  if (o.run) {
    provenance.single = `reused ${runDir}`;
    trainSeconds = readMetricsLog(runPath(runDir, 'metricsLog')).reduce((sum, epoch) => sum + epoch.seconds, 0);
  } else {
    if (existsSync(runDir)) throw new Error(`${runDir} exists; pass it as --run to reuse it, or remove it`);
    const started = performance.now();
    await trainRun({ data, seed, threads, ...epochs }, runDir, { log });
    trainSeconds = (performance.now() - started) / 1000;
    provenance.single = `trained inside into ${runDir}`;
  }
  const manifests = splitManifests(runDir, data, out);
  log(`split seed ${seed}: ${manifests.testCount} held-out test images (${manifests.test}); the ensemble trains on ${manifests.trainval}`);

  const single = await loadRun(runDir, { calibration: 'optional' });
  const oneView = await modelsOnDataset({ ...single, members: undefined, calibration: { ...single.calibration!, temperature: 1 } }, manifests.test, 'off', {});
  const withTta = await modelsOnDataset({ ...single, members: undefined, calibration: { ...single.calibration!, temperature: 1 } }, manifests.test, 'on', {});
  const singleOff = figures(oneView.calibrated, oneView.perModel[0].labels, single.classNames);
  const singleOn = figures(withTta.calibrated, withTta.perModel[0].labels, single.classNames);
  disposeRun(single);

  // An ensemble of folds of the same recipe on train + val only.
  const ensembleDir = o.ensemble ? resolve(o.ensemble) : join(out, 'ensemble');
  if (o.ensemble) provenance.ensemble = `reused ${ensembleDir}`;
  else {
    if (existsSync(ensembleDir)) throw new Error(`${ensembleDir} exists; pass it as --ensemble to reuse it, or remove it`);
    await trainFolds({ data: manifests.trainval, folds, seed, threads, ...epochs }, ensembleDir, log);
    provenance.ensemble = `trained inside into ${ensembleDir}`;
  }
  const ensemble = await loadRun(ensembleDir);
  const cv = JSON.parse(readFileSync(join(ensembleDir, 'cv-summary.json'), 'utf8')) as { folds: { bestEpoch: number }[] };
  const cvAccuracies = (ensemble.members ?? []).map((member, i) => readMetricsLog(runPath(member.dir, 'metricsLog')).find((e) => e.epoch === cv.folds[i].bestEpoch)!.val_acc);
  const cvMean = cvAccuracies.reduce((a, b) => a + b, 0) / cvAccuracies.length;
  const cvSd = Math.sqrt(cvAccuracies.reduce((a, b) => a + (b - cvMean) ** 2, 0) / Math.max(1, cvAccuracies.length - 1));
  const ensembleFigures = await testFigures(ensemble, manifests.test);

  // One student distilled from the ensemble ('--student none': not measured this time).
  let studentFigures: (Figures & { tta: TtaMode }) | null = null;
  if (o.student === 'none') provenance.student = 'none (--student none)';
  else {
    const studentDir = o.student ? resolve(o.student) : join(out, 'student');
    if (o.student) provenance.student = `reused ${studentDir}`;
    else {
      if (existsSync(studentDir)) throw new Error(`${studentDir} exists; pass it as --student to reuse it, or remove it`);
      await distillTeacher(ensemble, studentDir, { training: { threads, ...epochs }, log });
      provenance.student = `distilled inside into ${studentDir}`;
    }
    const student = await loadRun(studentDir);
    studentFigures = await testFigures(student, manifests.test);
    disposeRun(student);
  }
  disposeRun(ensemble);

  // Latency of the prediction core with the default map, in the default mode and with one view.
  const image = readFileSync(manifests.test, 'utf8').split('\n')[1].split(',')[0];
  const repeats = o.repeats ?? 30;
  const latency: Record<string, number> = {};
  for (const tta of ['on', 'off'] as const) {
    const copy = await calibratedCopy(runDir, out, tta);
    for (const t of [1, 2]) latency[`predict_ms_tta_${tta}_${t}_threads`] = await predictMs(copy, image, t, repeats);
    disposeRun(copy);
  }
  setNumThreads(threads);

  return {
    recipe: `aplnet train defaults (${JSON.parse(readFileSync(runPath(runDir, 'config'), 'utf8')).training.model}), TTA ${DEFAULT_TTA} by default; ensemble: ${ensembleFigures.tta === 'on' ? 'TTA' : 'one view'} mean of ${cvAccuracies.length} folds`,
    cv_accuracy_mean: cvMean,
    cv_accuracy_sd: cvSd,
    test_accuracy: singleOff.accuracy,
    test_macro_f1: singleOff.macro_f1,
    tta_test_accuracy: singleOn.accuracy,
    ensemble_test_accuracy: ensembleFigures.accuracy,
    distilled_test_accuracy: studentFigures?.accuracy ?? null,
    train_s: trainSeconds,
    predict_ms: latency[`predict_ms_tta_${DEFAULT_TTA}_1_threads`],
    tta_test_macro_f1: singleOn.macro_f1,
    weakest_class_tta: `${singleOn.weakest_class} F1 ${singleOn.weakest_f1.toFixed(4)}`,
    ensemble_test_macro_f1: ensembleFigures.macro_f1,
    ensemble_weakest_class: `${ensembleFigures.weakest_class} F1 ${ensembleFigures.weakest_f1.toFixed(4)}`,
    distilled_test_macro_f1: studentFigures?.macro_f1 ?? null,
    distilled_tta: studentFigures?.tta ?? null,
    ...latency,
    runs: provenance,
    notes: 'cv accuracy: each fold member at its best epoch on its validation fold, one view; test figures: the held-out test split of the single run; train_s: the single run (sum of its epochs when reused); predict_ms: predict + default map, one image, 1 thread, median, in the default TTA mode',
  };
}
