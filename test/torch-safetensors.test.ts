// Weights files fail closed: aplnet's checksum catches a changed byte, requireChecksum refuses files
// aplnet did not write, and a header whose tensors do not tile the data exactly is refused, each by
// the file's name. Python still reads aplnet's files, and aplnet still reads Python's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHECKSUM_KEY, SafetensorsError, arange, loadSafetensors, randn, saveSafetensors } from '../src/torch/index.js';
import { Linear } from '../src/nn/index.js';
import { PYTHON, REFERENCE_DIR } from './helpers/python.js';

const CHANGED = /checksum mismatch: the weights were changed or damaged after they were written; retrain or restore the file/;

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-st-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A safetensors file with this exact header and data, as a careless or hostile writer makes it. */
function writeRaw(path: string, header: object, data: Buffer): void {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([prefix, json, data]));
}

function headerOf(path: string): { header: Record<string, any>; dataStart: number } {
  const bytes = readFileSync(path);
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')), dataStart: 8 + length };
}

const refuses = (path: string, pattern: RegExp, options = {}) =>
  assert.throws(() => loadSafetensors(path, 'cpu', options), (err: Error) => err instanceof SafetensorsError && err.message.includes(path) && pattern.test(err.message), String(pattern));

test('saved files carry a SHA-256 of their data beside the caller\'s metadata, and load verified', () => {
  withTempDir((dir) => {
    const path = join(dir, 'w.safetensors');
    saveSafetensors(path, { w: arange(6).reshape([2, 3]), b: arange(2, undefined, 1, { dtype: 'int64' }) }, { epoch: '3', classes: 'a,b' });
    const { header, dataStart } = headerOf(path);
    const digest = createHash('sha256').update(readFileSync(path).subarray(dataStart)).digest('hex');
    assert.deepEqual(header.__metadata__, { epoch: '3', classes: 'a,b', [CHECKSUM_KEY]: digest });
    const loaded = loadSafetensors(path, 'cpu', { requireChecksum: true });
    assert.deepEqual(loaded.metadata, { epoch: '3', classes: 'a,b' });
    assert.equal(loaded.checksumVerified, true);
    assert.deepEqual(loaded.tensors.get('w')!.toArray(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(loaded.tensors.get('b')!.toArray(), [0, 1]);
  });
});

test('one flipped byte in the data is refused by name, by loadSafetensors and by Module.load', () => {
  withTempDir((dir) => {
    const path = join(dir, 'model.safetensors');
    const model = new Linear(4, 3);
    model.save(path);
    const bytes = readFileSync(path);
    bytes[bytes.length - 5] ^= 0x01;
    writeFileSync(path, bytes);
    refuses(path, CHANGED);
    assert.throws(() => new Linear(4, 3).load(path), (err: Error) => err.message.includes(path) && CHANGED.test(err.message));
  });
});

test('a file without the checksum loads by default and is refused with requireChecksum', () => {
  withTempDir((dir) => {
    const path = join(dir, 'python.safetensors');
    writeRaw(path, { weight: { dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] }, bias: { dtype: 'F32', shape: [3], data_offsets: [48, 60] } }, Buffer.alloc(60));
    assert.equal(loadSafetensors(path).checksumVerified, false);
    refuses(path, /has no "aplnet\.sha256" checksum: it was not written by this version of aplnet/, { requireChecksum: true });
    assert.doesNotThrow(() => new Linear(4, 3).load(path));
    assert.throws(() => new Linear(4, 3).load(path, { requireChecksum: true }), (err: Error) => err.message.includes(path) && /not written by this version of aplnet/.test(err.message));
  });
});

test('headers whose tensors overlap, leave gaps, run past the file or miscount bytes are refused', () => {
  withTempDir((dir) => {
    const f32 = (shape: number[], begin: number, end: number) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
    const cases: [string, object, number, RegExp][] = [
      ['overlap', { a: f32([2], 0, 8), b: f32([2], 4, 12) }, 12, /tensor "b" bytes \[4, 12\) overlap tensor "a" bytes \[0, 8\)/],
      ['same-bytes', { a: f32([2], 0, 8), b: f32([2], 0, 8) }, 8, /overlap tensor/],
      ['gap', { a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12, /data bytes \[4, 8\) belong to no tensor \(a gap before tensor "b"\)/],
      ['gap-at-start', { a: f32([1], 4, 8) }, 8, /data bytes \[0, 4\) belong to no tensor/],
      ['past-the-end', { a: f32([4], 0, 16) }, 12, /data_offsets \[0,16\] outside the 12 data bytes/],
      ['trailing-bytes', { a: f32([1], 0, 4) }, 12, /8 data bytes after the last tensor belong to no tensor/],
      ['wrong-count', { a: f32([2, 2], 0, 12) }, 12, /tensor "a" of shape \[2,2\] float32 needs 16 bytes but has 12/],
      ['negative', { a: f32([1], -4, 0) }, 4, /outside the 4 data bytes/],
      ['bad-metadata', { __metadata__: { epoch: 3 }, a: f32([1], 0, 4) }, 4, /__metadata__ must map names to strings/],
    ];
    for (const [name, header, dataBytes, pattern] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeRaw(path, header, Buffer.alloc(dataBytes));
      refuses(path, pattern);
    }
  });
});

test('the checksum key is aplnet\'s own, and metadata holds strings only', () => {
  withTempDir((dir) => {
    const path = join(dir, 'w.safetensors');
    assert.throws(() => saveSafetensors(path, { w: randn([2]) }, { [CHECKSUM_KEY]: 'x' }), /is aplnet's checksum/);
    assert.throws(() => saveSafetensors(path, { w: randn([2]) }, { epoch: 3 as never }), /metadata "epoch" is a number/);
    assert.throws(() => saveSafetensors(path, { __metadata__: randn([2]) }), /cannot be named "__metadata__"/);
  });
});

test('Module.load names every missing and unexpected key, and a failed load changes nothing', () => {
  withTempDir((dir) => {
    const path = join(dir, 'other.safetensors');
    saveSafetensors(path, { weight: randn([3, 4]), 'fc.bias': randn([3]), extra: randn([1]) });
    const model = new Linear(4, 3);
    const before = model.stateDict().get('weight')!.toArray();
    assert.throws(() => model.load(path), (err: Error) => err.message.startsWith(`${path}: state dict does not fit this Linear`) &&
      err.message.includes('missing key(s) "bias"') && err.message.includes('unexpected key(s) "extra", "fc.bias"'));
    saveSafetensors(path, { weight: randn([4, 4]), bias: randn([3]) });
    assert.throws(() => model.load(path), /size mismatch for "weight": the state dict has \[4,4\] but the model expects \[3,4\]/);
    assert.deepEqual(model.stateDict().get('weight')!.toArray(), before);
    saveSafetensors(path, { weight: randn([3, 4]) });
    assert.deepEqual(model.loadStateDict(new Map([['weight', randn([3, 4])]]), { strict: false }), { missingKeys: ['bias'], unexpectedKeys: [] });
  });
});

test('Python reads aplnet\'s files with their checksum, and aplnet reads Python\'s', () => {
  withTempDir((dir) => {
    const ours = join(dir, 'ours.safetensors');
    const theirs = join(dir, 'theirs.safetensors');
    saveSafetensors(ours, { w: arange(6).reshape([2, 3]), h: arange(3, undefined, 1, { dtype: 'bfloat16' }) }, { epoch: '7' });
    const script = [
      'import hashlib, json, struct, sys, torch',
      'from safetensors_io import load_file, save_file',
      'path, out = sys.argv[1], sys.argv[2]',
      'data = open(path, "rb").read()',
      '(n,) = struct.unpack("<Q", data[:8])',
      'meta = json.loads(data[8:8 + n])["__metadata__"]',
      't = load_file(path)',
      'save_file({"v": torch.arange(4, dtype=torch.float32)}, out)',
      'print(json.dumps({"ok": meta["aplnet.sha256"] == hashlib.sha256(data[8 + n:]).hexdigest(), "epoch": meta["epoch"],',
      '  "w": t["w"].flatten().tolist(), "h": t["h"].float().tolist()}))',
    ].join('\n');
    const out = JSON.parse(execFileSync(PYTHON, ['-c', script, ours, theirs], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: REFERENCE_DIR } }));
    assert.deepEqual(out, { ok: true, epoch: '7', w: [0, 1, 2, 3, 4, 5], h: [0, 1, 2] });
    const loaded = loadSafetensors(theirs);
    assert.equal(loaded.checksumVerified, false);
    assert.deepEqual(loaded.tensors.get('v')!.toArray(), [0, 1, 2, 3]);
  });
});
