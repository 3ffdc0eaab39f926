// Compiles native/aplnet.cc into build/aplnet.node against the libtorch that find-libtorch picks.
// First derives the export list and the TypeScript interface from native/ops.json (see
// native-boundary.mjs), so they exist for tsc even where libtorch is missing.
// Skips the compile when the addon is newer than its sources and was built for the same libtorch.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findLibtorch, LibtorchNotFound } from './find-libtorch.mjs';
import { BoundaryError, boundaryPaths, generateBoundary } from './native-boundary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const sources = ['native/aplnet.cc'].map((s) => join(root, s));
const inputs = [...sources, boundaryPaths.table, boundaryPaths.header, join(root, 'scripts', 'native-boundary.mjs'), fileURLToPath(import.meta.url)];
const outDir = join(root, 'build');
const addon = join(outDir, 'aplnet.node');
const stamp = join(outDir, 'aplnet.libtorch.json');

function nodeIncludeDir() {
  const candidates = [
    process.env.NODE_INCLUDE_DIR,
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
  ].filter(Boolean);
  const found = candidates.find((d) => existsSync(join(d, 'node_api.h')));
  if (!found) throw new Error(`node_api.h not found in ${candidates.join(', ')}; set NODE_INCLUDE_DIR to Node's include/node folder.`);
  return found;
}

try {
  const written = generateBoundary();
  if (written.length) console.log(`generated ${written.join(', ')} from native/ops.json`);
} catch (err) {
  if (err instanceof BoundaryError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

let torch;
try {
  torch = findLibtorch();
} catch (err) {
  if (err instanceof LibtorchNotFound) {
    console.error(err.message);
    process.exit(2);
  }
  throw err;
}

const newestSource = Math.max(...inputs.map((s) => statSync(s).mtimeMs));
const stampText = JSON.stringify(torch);
if (existsSync(addon) && existsSync(stamp) && statSync(addon).mtimeMs > newestSource && readFileSync(stamp, 'utf8') === stampText) {
  console.log(`native addon up to date (${torch.source})`);
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
if (torch.cuda) libs.push('-ltorch_cuda', '-lc10_cuda');
const tmpOut = `${addon}.tmp-${process.pid}`;
const args = [
  '-O2', '-std=c++17', '-shared', '-fPIC', '-fvisibility=hidden',
  // An OP body that the table does not export is a mistake, not dead code to keep.
  '-Werror=unused-function',
  `-D_GLIBCXX_USE_CXX11_ABI=${torch.cxx11Abi ? 1 : 0}`,
  '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  ...(torch.cuda ? ['-DAPLNET_WITH_CUDA'] : []),
  `-I${nodeIncludeDir()}`, `-I${require('node-addon-api').include_dir}`,
  // /usr/include is already a system dir; naming it again breaks libstdc++'s #include_next.
  ...torch.includeDirs.filter((d) => d !== '/usr/include').map((d) => `-isystem${d}`),
  ...sources,
  '-o', tmpOut,
  ...torch.libDirs.flatMap((d) => [`-L${d}`, `-Wl,-rpath,${d}`]),
  '-Wl,--no-as-needed', ...libs, '-Wl,--as-needed',
];
console.log(`building native addon against ${torch.source}${torch.cuda ? ' (CUDA)' : ' (CPU)'} ...`);
const started = Date.now();
execFileSync(process.env.CXX || 'g++', args, { stdio: 'inherit', cwd: root });
renameSync(tmpOut, addon);
writeFileSync(stamp, stampText);
console.log(`built ${addon} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
