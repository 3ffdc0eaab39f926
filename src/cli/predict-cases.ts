// What `aplnet predict` needs for cases: its inputs as cases (a manifest's patient_id, or --case for
// all the images given), and the case summaries it prints and writes. The summary itself is the run
// layer's one summarizeCase, the same the report and the web page show.
import { extname, resolve } from 'node:path';
import { isSplitName, listImageFiles, readCaseManifest, type SkippedImage, type SplitName } from '../data/index.js';
import { writeCaseSummaries, type CaseSummary, type LoadedRun } from '../run/index.js';
import { formatCaseSummary } from './case-summary-text.js';

export interface PredictInputs {
  files: string[];
  /** Inputs found unreadable while listing; they follow `files` in the results. */
  skipped: SkippedImage[];
  /** The case of every result (files, then skipped), or null when no cases were asked for. */
  caseIds: string[] | null;
}

const isManifest = (path: string) => extname(path).toLowerCase() === '.csv';

/**
 * Images and folders, or one CSV manifest (path,patient_id[,label][,split]) whose patient ids make
 * the cases. `caseId` makes every image given one case; `split` keeps a manifest's rows of one split.
 */
export async function listPredictInputs(inputs: string[], { caseId, split, exclude }: { caseId?: string; split?: string; exclude?: string }): Promise<PredictInputs> {
  if (caseId !== undefined && caseId.trim() === '') throw new Error('--case needs a case id, e.g. --case patient-17');
  if (split !== undefined && !isSplitName(split)) throw new Error(`--split must be train, val or test, got "${split}"`);
  const manifests = inputs.filter(isManifest);
  if (manifests.length === 0) {
    if (split !== undefined) throw new Error('--split chooses rows of a manifest; give a CSV manifest (path,patient_id[,split]) as the input');
    const listed = await listImageFiles(inputs, { exclude });
    const count = listed.files.length + listed.skipped.length;
    return { ...listed, caseIds: caseId === undefined ? null : new Array<string>(count).fill(caseId) };
  }
  if (inputs.length > 1) throw new Error(`give one CSV manifest (${manifests[0]}), or images and folders, not both; a manifest lists every image of its cases`);
  if (caseId !== undefined) throw new Error(`${manifests[0]} names its cases in its patient_id column; --case is for a list of images that form one case`);
  let rows = await readCaseManifest(manifests[0]);
  if (split !== undefined) {
    if (!rows.some((row) => row.split !== undefined)) throw new Error(`${manifests[0]} has no split column, so --split ${split} cannot choose rows`);
    rows = rows.filter((row) => row.split === (split as SplitName));
  }
  if (rows.length === 0) throw new Error(`${manifests[0]} lists no images${split ? ` in the ${split} split` : ''}`);
  return { files: rows.map((row) => row.path), skipped: [], caseIds: rows.map((row) => row.caseId) };
}

/** Prints the summaries after the per-image output (to stdout for the table, else to stderr so the JSON or CSV stays clean), and writes the case file. */
export function reportCases(run: LoadedRun, summaries: readonly CaseSummary[], { tableOnStdout, caseOut }: { tableOnStdout: boolean; caseOut?: string }): void {
  if (caseOut) {
    writeCaseSummaries(caseOut, run, summaries);
    console.error(`case summaries written to ${resolve(caseOut)}`);
  }
  if (tableOnStdout) console.log(`\n${summaries.map((summary) => formatCaseSummary(summary)).join('\n\n')}`);
  else if (!caseOut) console.error('case summaries: give --case-out <file.json|file.csv> to keep them beside the JSON or CSV output');
  const referred = summaries.filter((summary) => summary.refer).length;
  if (summaries.length > 1) console.error(`${summaries.length} cases, ${referred} referred to a specialist`);
}
