// The open cases of this server: the cells a reviewer has added to each case, with the model's call,
// the image and its maps as PNGs, and the reviewer's correction beside the call. Kept in memory
// only, as the uploads always were: nothing about a patient is written to disk, and a case lives
// until the server stops or it is closed to make room (bounded in count, cells and bytes). A page
// reload finds its case again by id; a case to keep is exported.
import { createHash } from 'node:crypto';
import { ServeError } from './errors.js';
import type { OverlayMethod, StoredResult } from './protocol.js';

/** A lab's accession number or our generated id: letters, digits, dot, dash, underscore. */
export const CASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface CellReview {
  /** A class of the run, or one of REVIEW_ONLY_CLASSES. */
  className: string;
  reviewedAt: string;
}

export interface CaseCell {
  /** The cell's number in its case, from 0 in the order added; never reused. */
  index: number;
  /** The uploaded name, made unique within the case ("a.jpg (2)") so every place can name one cell. */
  file: string;
  result: StoredResult;
  /** The image as the model saw it, and each map asked for; null for a file that could not be read. */
  inputPng: Buffer | null;
  heatmaps: Partial<Record<OverlayMethod, Buffer>>;
  review: CellReview | null;
}

export interface OpenCase {
  caseId: string;
  createdAt: string;
  updatedAt: string;
  cells: CaseCell[];
  /** Bumped whenever the model's side of the case changes (cells, id): the summary cache's key. */
  revision: number;
  bytes: number;
  /** SHA-256 of each uploaded file in the case: the same image twice would count twice in the differential. */
  hashes: Map<string, number>;
  lastUsed: number;
}

export interface CaseStoreLimits {
  maxCases: number;
  maxCellsPerCase: number;
  /** All PNGs of all open cases together. */
  maxBytes: number;
}

export interface NewCell {
  name: string;
  /** SHA-256 of the uploaded bytes (taken before they are moved to a worker). */
  hash: string;
  result: StoredResult;
  inputPng: Buffer | null;
  heatmaps: Partial<Record<OverlayMethod, Buffer>>;
}

export interface SkippedFile {
  name: string;
  reason: string;
  message: string;
}

const mb = (bytes: number): string => `${Math.round(bytes / 1e6)} MB`;

export const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function checkCaseId(caseId: unknown): string {
  if (typeof caseId !== 'string' || !CASE_ID_PATTERN.test(caseId)) {
    throw new ServeError(400, 'bad-case-id', `the case id ${JSON.stringify(caseId)?.slice(0, 80)} is not usable: use 1–64 letters, digits, ".", "-" or "_", starting with a letter or digit (e.g. an accession number)`);
  }
  return caseId;
}

export class CaseStore {
  private readonly cases = new Map<string, OpenCase>();
  /** Ids closed to make room, so asking for one says why it is gone (bounded). */
  private readonly evicted = new Set<string>();
  private clock = 0;

  constructor(readonly limits: CaseStoreLimits) {}

  get totalBytes(): number {
    let total = 0;
    for (const c of this.cases.values()) total += c.bytes;
    return total;
  }

  list(): OpenCase[] {
    return [...this.cases.values()].sort((a, b) => b.lastUsed - a.lastUsed);
  }

  get(caseId: string): OpenCase {
    const found = this.cases.get(checkCaseId(caseId));
    if (!found) {
      const why = this.evicted.has(caseId)
        ? `it was closed to make room (this server keeps at most ${this.limits.maxCases} cases, ${mb(this.limits.maxBytes)} in all)`
        : 'cases live in the server\'s memory only, and are gone after it restarts';
      throw new ServeError(404, 'no-such-case', `no open case "${caseId}" on this server: ${why}. Export a case to keep it.`);
    }
    found.lastUsed = ++this.clock;
    return found;
  }

  /** The case with this id, opened empty if there is none. */
  open(caseId: string): OpenCase {
    checkCaseId(caseId);
    const existing = this.cases.get(caseId);
    if (existing) {
      existing.lastUsed = ++this.clock;
      return existing;
    }
    const now = new Date().toISOString();
    const created: OpenCase = { caseId, createdAt: now, updatedAt: now, cells: [], revision: 0, bytes: 0, hashes: new Map(), lastUsed: ++this.clock };
    this.cases.set(caseId, created);
    this.evicted.delete(caseId);
    this.makeRoom(created);
    return created;
  }

  /** How many more cells the case may take. */
  room(openCase: OpenCase): number {
    return this.limits.maxCellsPerCase - openCase.cells.length;
  }

  /** The upload already in the case with these bytes, if any. */
  duplicateOf(openCase: OpenCase, hash: string): CaseCell | undefined {
    const index = openCase.hashes.get(hash);
    return index === undefined ? undefined : openCase.cells[index];
  }

  /** Adds analysed uploads; a file whose bytes are already in the case is skipped, not counted twice. */
  add(openCase: OpenCase, cells: NewCell[]): { added: CaseCell[]; skipped: SkippedFile[] } {
    const added: CaseCell[] = [];
    const skipped: SkippedFile[] = [];
    const names = new Set(openCase.cells.map((c) => c.file));
    for (const cell of cells) {
      const hash = cell.hash;
      const earlier = this.duplicateOf(openCase, hash);
      if (earlier) {
        skipped.push({ name: cell.name, reason: 'duplicate', message: `${cell.name} has the same bytes as ${earlier.file}, already in this case; it was not added again (a cell counted twice would skew the differential)` });
        continue;
      }
      if (this.room(openCase) <= 0) {
        skipped.push({ name: cell.name, reason: 'case-full', message: `${cell.name} was not added: a case holds at most ${this.limits.maxCellsPerCase} images` });
        continue;
      }
      const bytes = (cell.inputPng?.length ?? 0) + Object.values(cell.heatmaps).reduce((s, png) => s + (png?.length ?? 0), 0);
      if (this.totalBytes + bytes > this.limits.maxBytes) this.makeRoom(openCase, bytes);
      if (this.totalBytes + bytes > this.limits.maxBytes) {
        skipped.push({ name: cell.name, reason: 'case-too-large', message: `${cell.name} was not added: the open cases may hold at most ${mb(this.limits.maxBytes)} of images; export this case and start a new one` });
        continue;
      }
      let file = cell.name;
      for (let n = 2; names.has(file); n++) file = `${cell.name} (${n})`;
      names.add(file);
      const stored: CaseCell = { index: openCase.cells.length, file, result: { ...cell.result, file }, inputPng: cell.inputPng, heatmaps: cell.heatmaps, review: null };
      openCase.cells.push(stored);
      openCase.hashes.set(hash, stored.index);
      openCase.bytes += bytes;
      added.push(stored);
    }
    if (added.length) this.changed(openCase);
    return { added, skipped };
  }

  cell(openCase: OpenCase, index: number): CaseCell {
    const cell = openCase.cells[index];
    if (!cell) throw new ServeError(404, 'no-such-cell', `case "${openCase.caseId}" has no cell ${index}; its cells are numbered 0 to ${openCase.cells.length - 1}`);
    return cell;
  }

  rename(openCase: OpenCase, to: string): void {
    checkCaseId(to);
    if (to === openCase.caseId) return;
    if (this.cases.has(to)) throw new ServeError(409, 'case-exists', `a case "${to}" is already open on this server: choose another id, or open that case`);
    this.cases.delete(openCase.caseId);
    openCase.caseId = to;
    this.cases.set(to, openCase);
    this.evicted.delete(to);
    this.changed(openCase);
  }

  close(openCase: OpenCase): void {
    this.cases.delete(openCase.caseId);
  }

  /** The reviewer's class for a cell (null takes the review back); the model's call is never touched. */
  review(openCase: OpenCase, cell: CaseCell, className: string | null): void {
    cell.review = className === null ? null : { className, reviewedAt: new Date().toISOString() };
    openCase.updatedAt = new Date().toISOString();
  }

  private changed(openCase: OpenCase): void {
    openCase.revision += 1;
    openCase.updatedAt = new Date().toISOString();
  }

  /** Closes the least recently used cases (never `keep`) until the count and `extraBytes` fit. */
  private makeRoom(keep: OpenCase, extraBytes = 0): void {
    const oldestFirst = [...this.cases.values()].filter((c) => c !== keep).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const victim of oldestFirst) {
      if (this.cases.size <= this.limits.maxCases && this.totalBytes + extraBytes <= this.limits.maxBytes) break;
      this.cases.delete(victim.caseId);
      this.evicted.add(victim.caseId);
      if (this.evicted.size > 1000) this.evicted.delete(this.evicted.values().next().value!);
    }
  }
}
