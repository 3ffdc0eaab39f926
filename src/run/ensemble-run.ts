// A folder made by `aplnet train --folds k` (fold-0 … fold-(k-1) and cv-summary.json) loaded as ONE
// model: every member is loaded and checked end to end like any run, then they must agree on what
// an image is (classes, decoding, stain normalisation, architecture) so one decoded image serves
// all of them. Each member keeps its own channel statistics and temperature. The ensemble's answer
// is the mean of the members' calibrated probabilities, so it needs no temperature of its own.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Calibration, TtaMode } from '../train/index.js';
import type { LoadedRun, LoadRunOptions } from './load-run.js';

/** The file `train --folds` writes beside the fold folders. */
export const CV_SUMMARY = 'cv-summary.json';

/** What the ensemble's calibration says it was fitted on: each member on its own validation fold. */
export const MEMBERS_CALIBRATION = 'members';

export function isEnsembleFolder(dir: string): boolean {
  return existsSync(join(dir, CV_SUMMARY)) && !existsSync(join(dir, 'config.json'));
}

/** fold-0 … fold-(k-1), in fold order; a gap in the numbering is an error (a member is missing). */
export function memberFolders(dir: string): string[] {
  const folds = readdirSync(dir)
    .map((name) => /^fold-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null && statSync(join(dir, m[0])).isDirectory())
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  if (folds.length < 2) throw new Error(`${dir} has ${CV_SUMMARY} but ${folds.length} fold folder(s); an ensemble needs at least two (fold-0, fold-1, …) made by "aplnet train --folds k"`);
  folds.forEach((fold, i) => {
    if (fold !== i) throw new Error(`${dir}: fold-${i} is missing (found ${folds.map((f) => `fold-${f}`).join(', ')}); restore it or train that fold again`);
  });
  return folds.map((fold) => join(dir, `fold-${fold}`));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Refuses members that do not see an image the same way, naming the member and what differs. */
function checkMembersAgree(dir: string, members: LoadedRun[]): void {
  const [first, ...rest] = members;
  for (const member of rest) {
    const differs = (what: string, fix: string) => new Error(`${dir}: member ${member.dir} differs from ${first.dir} in ${what}; ${fix}`);
    if (!same(member.classNames, first.classNames)) throw differs(`its classes (${JSON.stringify(member.classNames)} vs ${JSON.stringify(first.classNames)})`, 'members of one ensemble must predict the same classes in the same order');
    if (!same(member.inference.preprocessing, first.inference.preprocessing) || !same(member.inference.limits, first.inference.limits)) {
      throw differs('its preprocessing (image size, resizing or decode limits)', 'members must be trained with the same --size and --resize');
    }
    if (!same(member.inference.stainNormalizer, first.inference.stainNormalizer)) {
      throw differs('its stain normaliser (each fold fitted its own)', 'an ensemble needs one stain normalisation for all members: train the folds with --stain-norm none');
    }
    if (!same(member.config.model, first.config.model)) throw differs('its architecture (config.json "model")', 'members must be trained with the same preset');
  }
}

/**
 * The ensemble's own calibration: temperature 1 over the mean of calibrated probabilities, in the
 * members' mode; null while a member has none, or the members were fitted for different modes.
 */
function ensembleCalibration(members: LoadedRun[]): Calibration | null {
  if (members.some((m) => m.calibration === null)) return null;
  if (new Set(members.map((m) => m.calibration!.tta)).size > 1) return null;
  const thresholds = new Set(members.map((m) => m.calibration!.referralThreshold));
  if (thresholds.size > 1) throw new Error(`the members of the ensemble refer below different thresholds (${[...thresholds].join(', ')}); set one threshold (--threshold) or refit them together with aplnet evaluate`);
  const first = members[0].calibration!;
  return {
    temperature: 1,
    referralThreshold: first.referralThreshold,
    fittedOn: MEMBERS_CALIBRATION,
    nllBefore: null,
    nllAfter: null,
    weightsSha256: ensembleDigest(members),
    tta: first.tta as TtaMode,
  };
}

/** One digest for the ensemble: of its members' weight digests, in member order. */
function ensembleDigest(members: LoadedRun[]): string {
  return createHash('sha256').update(members.map((m) => m.weightsSha256).join('\n')).digest('hex');
}

/**
 * Loads every fold of `dir` with `loadMember` (loadRun) and returns them as one run. `model` is the
 * first member's, for what depends only on the architecture (which maps it can draw); every
 * prediction reads all of `members`.
 */
export async function loadEnsemble(dir: string, options: LoadRunOptions, loadMember: (dir: string, options: LoadRunOptions) => Promise<LoadedRun>): Promise<LoadedRun> {
  const members: LoadedRun[] = [];
  try {
    for (const folder of memberFolders(dir)) {
      try {
        members.push(await loadMember(folder, { ...options, calibration: 'optional' }));
      } catch (err) {
        throw new Error(`${dir}: member ${folder} cannot be used: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    checkMembersAgree(dir, members);
    const calibration = ensembleCalibration(members);
    if (!calibration && options.calibration !== 'optional') {
      const state = members.map((m) => `${m.dir}: ${m.calibration ? `TTA ${m.calibration.tta}` : 'none fitted for its weights'}`).join('; ');
      throw new Error(`${dir}: the members are not calibrated for one mode (${state}); run "aplnet evaluate ${dir} <data> [--tta on|off]" to refit every member on its validation fold`);
    }
    const first = members[0];
    return { dir, config: first.config, classNames: first.classNames, inference: first.inference, model: first.model, calibration, weightsSha256: ensembleDigest(members), members, caseLevel: null };
  } catch (err) {
    for (const member of members) member.model.dispose();
    throw err;
  }
}

/** Frees every member's model (an ensemble) or the run's one model. */
export function disposeRun(run: LoadedRun): void {
  for (const member of run.members ?? [run]) member.model.dispose();
}

/**
 * The folder whose config.json, classes.json and calibration.json describe a run without loading
 * it (serve's model card): the run itself, or an ensemble's first member (members agree on classes,
 * architecture and TTA mode; loading checks it).
 */
export function describingFolder(dir: string): string {
  return isEnsembleFolder(dir) ? memberFolders(dir)[0] : dir;
}
