// The evaluated split's cases as predict and the web page would show them: every case's summary from
// the prediction core (out-of-distribution flags and all), beside what is known to be true: the
// case's label where labels belong to the patient, else the true differential of its cells.
import { join } from 'node:path';
import { readSource } from '../data/index.js';
import { writeJsonAtomic } from '../io/index.js';
import { CASE_CALL_SOURCE_TITLES, summarizeCases, type CaseSummary, type SummarizeCaseOptions } from './case-summary.js';
import type { RunEvaluation } from './evaluate-run.js';
import type { LoadedRun } from './load-run.js';
import { predictImages, unreadableInput, type PredictResult } from './predict-images.js';

export interface EvaluatedCase {
  summary: CaseSummary;
  /** The case's label when the run's labels belong to the patient, else null. */
  truth: string | null;
  /** Cells per true class (the images' own labels), in the run's class order: what the differential should read. */
  trueDifferential: number[];
}

/**
 * Predicts the evaluated images again through the prediction core and summarises each patient's
 * images as a case; no cases (an empty list) when the evaluated data has no patient ids. Images of
 * the split that could not be read count in their case as unreadable.
 */
export async function evaluatedCases(run: LoadedRun, evaluation: RunEvaluation, options: Omit<SummarizeCaseOptions, 'caseId'> & { batchSize?: number } = {}): Promise<EvaluatedCase[]> {
  const { paths, labels } = evaluation.images;
  const source = await readSource(evaluation.set.data, { classNames: run.classNames });
  const patientOf = new Map(source.samples.map((sample) => [sample.path, sample.patientId]));
  const patientIds = paths.map((path) => patientOf.get(path));
  if (paths.length === 0 || !patientIds.every((id): id is string => id !== undefined)) return [];
  const skipped = evaluation.set.skipped.flatMap((image) => {
    const patientId = patientOf.get(image.file);
    return patientId === undefined ? [] : [{ image, patientId }];
  });
  // A frozen case model reads the embeddings the prediction core returns, so ask for them.
  const predicted = await predictImages(run, paths, { batchSize: options.batchSize, embeddings: Boolean(run.caseLevel?.model) });
  const results: PredictResult[] = [...predicted, ...skipped.map((s) => unreadableInput(s.image))];
  const summaries = summarizeCases(run, results, [...patientIds, ...skipped.map((s) => s.patientId)], options);
  const caseLevel = Boolean(run.caseLevel);
  return summaries.map((summary) => {
    const members = paths.flatMap((_, i) => (patientIds[i] === summary.caseId ? [labels[i]] : []));
    const trueDifferential = run.classNames.map((_, k) => members.filter((label) => label === k).length);
    return { summary, truth: caseLevel && members.length > 0 ? run.classNames[members[0]] : null, trueDifferential };
  });
}

/** Where evaluate keeps the cases, beside metrics.json and report.html. */
export const EVALUATED_CASES_FILE = 'case-summaries.json';

/** Writes every case's summary with its truth into `outDir`, atomically; returns the path. */
export function writeEvaluatedCases(outDir: string, run: Pick<LoadedRun, 'dir' | 'weightsSha256'>, splitName: string, cases: readonly EvaluatedCase[]): string {
  const path = join(outDir, EVALUATED_CASES_FILE);
  writeJsonAtomic(path, { run: run.dir, weightsSha256: run.weightsSha256, split: splitName, sources: CASE_CALL_SOURCE_TITLES, cases });
  return path;
}
