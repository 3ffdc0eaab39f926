// Bad calls become clear Errors naming the op and the shapes, and the process stays alive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, fromTypedArray, loadSafetensors, ones, randn, saveSafetensors, SafetensorsError, zeros, encodeSafetensors } from '../src/torch/index.js';

test('wrong shapes name the op and the input shapes', () => {
  assert.throws(() => randn([2, 3]).matmul(randn([4, 5])), /matmul failed \(inputs: \[2,3\] Float cpu, \[4,5\] Float cpu\)/);
  assert.throws(() => F.conv2d(randn([1, 5, 8, 8]), randn([4, 3, 3, 3])), /conv2d failed.*\[1,5,8,8\].*expected input\[1, 5, 8, 8\] to have 3 channels/);
  assert.throws(() => randn([2, 3]).add(randn([4])), /add failed/);
  assert.throws(() => randn([6]).reshape([4, 2]), /reshape failed.*\[6\]/);
  assert.throws(() => zeros([-1]), /shape must be an array of non-negative integers/);
});

test('wrong dtypes are errors, not crashes', () => {
  const logits = randn([4, 3]);
  assert.throws(() => F.crossEntropy(logits, randn([4])), /crossEntropy failed/);
  assert.throws(() => zeros([2], { dtype: 'complex64' as never }), /unknown dtype 'complex64'/);
  assert.throws(() => fromTypedArray(new Float32Array(5), [2, 3]), /fromBuffer failed: data holds 20 bytes but shape needs 24 bytes of float32/);
  assert.throws(() => ones([2]).item(), /item\(\) needs a tensor with one element/);
});

test('using a disposed tensor is a clear Error', () => {
  const t = randn([3]);
  t.dispose();
  assert.equal(t.isDisposed, true);
  assert.throws(() => t.add(1), /addScalar failed \(inputs: \(disposed\)\): argument 0 is a disposed tensor/);
  assert.throws(() => t.shape, /disposed tensor/);
  assert.doesNotThrow(() => t.dispose(), 'disposing twice is harmless');
  assert.equal(String(t), 'Tensor(disposed)');
});

test('bad safetensors files are clear Errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aplnet-st-'));
  try {
    const good = Buffer.concat(encodeSafetensors({ w: randn([2, 3]) }));
    const cases: [string, Buffer, RegExp][] = [
      ['empty.safetensors', Buffer.alloc(0), /only 0 bytes long/],
      ['truncated.safetensors', good.subarray(0, good.length - 5), /outside the \d+ data bytes \(truncated file\?\)/],
      ['huge-header.safetensors', Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), Buffer.alloc(8)]), /runs past the end of the file/],
      ['not-json.safetensors', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]), /header is not JSON/],
      ['bad-dtype.safetensors', withHeader({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, 8), /unsupported dtype "C64"/],
      ['bad-size.safetensors', withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /needs 12 bytes but has 8/],
    ];
    for (const [name, bytes, pattern] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      assert.throws(() => loadSafetensors(path), (err: Error) => err instanceof SafetensorsError && err.message.includes(path) && pattern.test(err.message), name);
    }
    assert.throws(() => loadSafetensors(join(dir, 'missing.safetensors')), /cannot read .*missing\.safetensors: no such file/);
    assert.throws(() => saveSafetensors(join(dir, 'no', 'such', 'dir.safetensors'), { w: ones([1]) }), /could not write/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function withHeader(header: object, dataBytes: number): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, Buffer.alloc(dataBytes)]);
}
