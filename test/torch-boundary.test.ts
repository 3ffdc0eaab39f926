// The native boundary has one table (native/ops.json): the addon exports exactly its ops, the
// generated files are up to date with it, and every dtype in it means the same on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { native } from '../src/torch/native.js';
import { DTYPE_TABLE, NATIVE_OP_NAMES } from '../src/torch/native-api.generated.js';
import { DTYPES, itemSize, zeros } from '../src/torch/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const generator = join(root, 'scripts', 'native-boundary.mjs');

test('the addon exports every op in the table and nothing else', () => {
  const exported = Object.keys(native).sort();
  const listed: string[] = [...NATIVE_OP_NAMES].sort();
  assert.deepEqual(exported.filter((name) => !listed.includes(name)), [], 'exported but not in native/ops.json');
  assert.deepEqual(listed.filter((name) => !exported.includes(name)), [], 'in native/ops.json but not exported');
  for (const name of listed) assert.equal(typeof (native as unknown as Record<string, unknown>)[name], 'function', name);
});

test('the generated header and TypeScript interface are up to date with native/ops.json', () => {
  const out = execFileSync(process.execPath, [generator, '--check'], { cwd: root, encoding: 'utf8' });
  assert.match(out, /up to date/);
});

test('the build check names a table op without a C++ body, and a body missing from the table', () => {
  const source = ['OP(alpha) { return info.Env().Undefined(); }', 'BINARY(beta, at::add)', 'UNARY(gamma, at::neg)', '#define OP(name) ignored'].join('\n');
  const script = `import { compareTableToBodies } from ${JSON.stringify(pathToFileURL(generator).href)};
    console.log(JSON.stringify(compareTableToBodies(['alpha', 'beta', 'delta'], ${JSON.stringify(source)})));`;
  const result = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.deepEqual(result, { noBody: ['delta'], unlisted: ['gamma'] });
});

test('every dtype in the table round-trips through the addon with its item size', () => {
  assert.deepEqual([...DTYPES], DTYPE_TABLE.map((d) => d.name));
  for (const dtype of DTYPES) {
    const t = zeros([3], { dtype });
    assert.equal(t.dtype, dtype);
    const data = t.data();
    assert.equal(data.byteLength, 3 * itemSize(dtype), `${dtype} bytes`);
    assert.ok(data instanceof DTYPE_TABLE.find((d) => d.name === dtype)!.array, `${dtype} typed array`);
    t.dispose();
  }
  assert.throws(() => zeros([1], { dtype: 'complex64' as never }), /unknown dtype 'complex64' \(use float32, float64, bfloat16, float16, uint8, int32, int64 or bool\)/);
});
