// The case model's weights file: the MIL pooling ("mil.*" for one head; "mil.0.*", "mil.1.*", …
// for an ensemble of heads) and, for a fine-tuned encoder, that encoder ("encoder.*"), with metadata binding it to the case classes and to the cell model's
// weights. Loading checks it end to end (digest recorded in case-level.json, aplnet's checksum,
// classes, cell weights, configuration, every value finite) and names the file in every error.
import { existsSync } from 'node:fs';
import { CaseModel, GatedAttentionMil, createModel, checkCaseMilConfig, type AplNet, type CaseMilConfig } from '../model/index.js';
import { loadSafetensors, saveSafetensors, type Tensor } from '../torch/index.js';
import type { CaseModelRecord } from './case-level.js';
import { runPath, sha256OfFile } from './run-files.js';

const META = { classes: 'aplnet.case.classes', cellWeights: 'aplnet.case.cell_weights_sha256', config: 'aplnet.case.config', encoder: 'aplnet.case.encoder', views: 'aplnet.case.embedding_views', heads: 'aplnet.case.heads' } as const;

/** Prefix of head k's tensors in a file of `count` heads (one head keeps the original "mil." layout). */
function headPrefix(k: number, count: number): string {
  return count === 1 ? 'mil.' : `mil.${k}.`;
}

/**
 * A case model configuration as one string, fields in a fixed order and the pooling spelled out
 * (files and records written before the pooling existed pool by attention), so a file and its
 * record compare by what they mean, not by how they were written.
 */
function canonicalConfig(config: CaseMilConfig): string {
  const { embeddingDim, hiddenDim, attentionDim, numClasses, dropout } = config;
  return JSON.stringify({ embeddingDim, hiddenDim, attentionDim, numClasses, dropout, pooling: config.pooling ?? 'attention' });
}

/** Whether a file's recorded configuration (a JSON string, or nothing) means the record's. */
function sameConfig(written: string | undefined, recorded: CaseMilConfig): boolean {
  if (written === undefined) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(written);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== 'object') return false;
  return canonicalConfig(parsed as CaseMilConfig) === canonicalConfig(recorded);
}

/** Writes the case model atomically; returns the file's SHA-256 (what case-level.json records). */
export function saveCaseModelFile(runDir: string, heads: readonly GatedAttentionMil[], encoder: AplNet | null, classNames: readonly string[], cellWeightsSha256: string, embeddingViews: 1 | 8): string {
  if (heads.length === 0) throw new Error('saveCaseModelFile: no MIL head to save');
  const tensors = new Map<string, Tensor>();
  heads.forEach((head, k) => {
    for (const [key, t] of head.stateDict()) tensors.set(`${headPrefix(k, heads.length)}${key}`, t);
  });
  if (encoder) for (const [key, t] of encoder.stateDict()) tensors.set(`encoder.${key}`, t);
  const path = runPath(runDir, 'caseModel');
  saveSafetensors(path, tensors, {
    [META.classes]: JSON.stringify(classNames),
    [META.cellWeights]: cellWeightsSha256,
    [META.config]: canonicalConfig(heads[0].config),
    [META.encoder]: encoder ? 'fine-tune' : 'frozen',
    [META.views]: String(embeddingViews),
    [META.heads]: String(heads.length),
  });
  return sha256OfFile(path);
}

function checkFinite(tensors: Map<string, Tensor>, path: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32' && t.dtype !== 'float64') continue;
    const values = t.data() as Float32Array | Float64Array;
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`${path}: ${name} holds ${values[i]} at element ${i}; a case model with NaN or Inf weights cannot give a trustworthy call. Retrain it with "aplnet train-case".`);
    }
  }
}

/**
 * Loads the case model recorded in case-level.json, refusing a missing, changed or foreign file.
 * A fine-tuned encoder is built like `cellModel` (the same network, its own weights).
 */
export function loadCaseModel(runDir: string, record: CaseModelRecord, classNames: readonly string[], cellWeightsSha256: string, cellModel: AplNet, device = 'cpu'): CaseModel {
  const path = runPath(runDir, 'caseModel');
  const again = `retrain it with "aplnet train-case ${runDir}"`;
  if (record.file !== runPath(runDir, 'caseModel').split(/[/\\]/).pop()) throw new Error(`${runPath(runDir, 'caseLevel')} names the case model "${record.file}", not the run's case-model file; ${again}`);
  if (!existsSync(path)) throw new Error(`${path} is missing, but ${runPath(runDir, 'caseLevel')} records a case model; ${again}`);
  if (sha256OfFile(path) !== record.sha256) {
    throw new Error(`${path} does not match the digest recorded in ${runPath(runDir, 'caseLevel')} (train-case was interrupted, or the file was replaced or damaged); ${again}`);
  }
  const { tensors, metadata } = loadSafetensors(path, 'cpu', { requireChecksum: true });
  const heads: GatedAttentionMil[] = [];
  let encoder: AplNet | null = null;
  try {
    if (metadata[META.classes] !== JSON.stringify(classNames)) {
      throw new Error(`${path} was trained for case classes ${metadata[META.classes] ?? '(none recorded)'}, but the run's classes are ${JSON.stringify(classNames)}; ${again}`);
    }
    if (metadata[META.cellWeights] !== cellWeightsSha256) {
      throw new Error(`${path} was trained on the embeddings of other cell weights than the run's model.safetensors (the cell model changed after the case model was trained); ${again}`);
    }
    // A file written before the views were recorded was trained on one view, as its record says.
    if (!sameConfig(metadata[META.config], record.config) || metadata[META.encoder] !== record.encoder || (metadata[META.views] ?? '1') !== String(record.embeddingViews) || (metadata[META.heads] ?? '1') !== String(record.heads)) {
      throw new Error(`${path}'s configuration differs from the one recorded in ${runPath(runDir, 'caseLevel')}; ${again}`);
    }
    checkFinite(tensors, path);
    const config = checkCaseMilConfig(record.config, path);
    for (let k = 0; k < record.heads; k++) heads.push(new GatedAttentionMil(config));
    const pick = (prefix: string) => new Map([...tensors].filter(([key]) => key.startsWith(prefix)).map(([key, t]) => [key.slice(prefix.length), t]));
    const unknown = [...tensors.keys()].filter((key) => !key.startsWith('mil.') && !key.startsWith('encoder.'));
    if (unknown.length) throw new Error(`${path} holds tensors that are not a case model's (${unknown.slice(0, 3).join(', ')}); ${again}`);
    try {
      // Every tensor must belong to exactly one head: "mil.0.x" would otherwise also pass as one head's "0.x".
      const headTensors = [...tensors.keys()].filter((key) => key.startsWith('mil.'));
      const expected = heads.reduce((n, head) => n + head.stateDict().size, 0);
      if (headTensors.length !== expected) throw new Error(`it holds ${headTensors.length} MIL tensors where ${record.heads} head${record.heads === 1 ? '' : 's'} have ${expected}`);
      heads.forEach((head, k) => head.loadStateDict(pick(headPrefix(k, record.heads))));
      if (record.encoder === 'fine-tune') {
        encoder = createModel(cellModel.config);
        encoder.loadStateDict(pick('encoder.'));
      } else if (pick('encoder.').size > 0) {
        throw new Error('a frozen-encoder case model carries encoder weights');
      }
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}; ${again}`);
    }
    if (config.embeddingDim !== embeddingSize(cellModel)) {
      throw new Error(`${path} reads embeddings of length ${config.embeddingDim}, but the cell model gives embeddings of another length; ${again}`);
    }
    const model = new CaseModel({ heads: heads.map((head) => head.to(device)), classNames: [...classNames], temperature: record.temperature, encoderKind: record.encoder, encoder: encoder ? encoder.to(device) : null, embeddingViews: record.embeddingViews, file: path, sha256: record.sha256 });
    return model;
  } catch (err) {
    for (const head of heads) head.dispose();
    encoder?.dispose();
    throw err;
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Length of the cell model's embedding: what its head reads (Linear [C, D] or 1×1 Conv2d [C, D, 1, 1]). */
export function embeddingSize(model: AplNet): number {
  return model.head.weight.shape[1];
}
