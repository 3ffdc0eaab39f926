// Compiles native/aplnet.cc and native/distributed.cc into build/aplnet.node against the libtorch
// that find-libtorch picks. First derives the export list and the TypeScript interface from
// native/ops.json (see native-boundary.mjs), so they exist for tsc even where libtorch is missing.
// Distributed support (c10d: Gloo, and NCCL on a CUDA libtorch) is compiled in when its headers are
// there; if that file does not compile against this libtorch, the addon is still built, with
// distributed entries that say why. The addon is linked to a temp file and renamed into place, so a
// process loading it meanwhile sees the old or the new one, never half of either.
// Skips the compile when the addon is newer than its sources and was built for the same libtorch.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findLibtorch, LibtorchNotFound } from './find-libtorch.mjs';
import { BoundaryError, boundaryPaths, generateBoundary } from './native-boundary.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const run = promisify(execFile);
const coreSource = join(root, 'native', 'aplnet.cc');
const distributedSource = join(root, 'native', 'distributed.cc');
const compatInclude = join(root, 'native', 'compat');
const inputs = [
  coreSource, distributedSource, join(root, 'native', 'distributed.h'), join(compatInclude, 'torch', 'csrc', 'distributed', 'autograd', 'context', 'context.h'),
  boundaryPaths.table, boundaryPaths.header, join(root, 'scripts', 'native-boundary.mjs'), fileURLToPath(import.meta.url),
];
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

/** The first of `dirs` (then /usr/include) that holds `file`, or null. */
function findHeader(dirs, file) {
  return [...dirs, '/usr/include'].find((d) => existsSync(join(d, file))) ?? null;
}

/**
 * Defines and include folders for native/distributed.cc: c10d with Gloo when ProcessGroupGloo.hpp
 * and the gloo headers (Debian: libgloo-dev) are found, NCCL too when the libtorch has CUDA and
 * nccl.h is found (NCCL_INCLUDE_DIR names its folder). note says what is missing, if anything.
 */
function distributedConfig(torch) {
  const c10d = 'torch/csrc/distributed/c10d/ProcessGroupGloo.hpp';
  if (!findHeader(torch.includeDirs, c10d)) return { defines: [], includes: [], libs: [], note: `this libtorch has no ${c10d}` };
  const glooDirs = [...torch.includeDirs, ...(process.env.GLOO_INCLUDE_DIR ? [process.env.GLOO_INCLUDE_DIR] : [])];
  const gloo = findHeader(glooDirs, 'gloo/allreduce.h');
  if (!gloo) return { defines: [], includes: [], libs: [], note: 'the gloo headers were not found (Debian: apt-get install libgloo-dev; elsewhere set GLOO_INCLUDE_DIR)' };
  const includes = [gloo];
  // Debian's libtorch-dev lacks the distributed-autograd header that reducer.hpp includes.
  if (!findHeader(torch.includeDirs, 'torch/csrc/distributed/autograd/context/context.h')) includes.push(compatInclude);
  const defines = ['-DUSE_C10D_GLOO', '-DAPLNET_WITH_C10D'];
  let note = '';
  if (torch.cuda) {
    const ncclDirs = [...torch.includeDirs, ...(process.env.NCCL_INCLUDE_DIR ? [process.env.NCCL_INCLUDE_DIR] : [])];
    const nccl = findHeader(ncclDirs, 'nccl.h');
    if (nccl && findHeader(torch.includeDirs, 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp')) {
      defines.push('-DUSE_C10D_NCCL', '-DAPLNET_WITH_NCCL');
      includes.push(nccl);
    } else {
      note = 'nccl.h not found (set NCCL_INCLUDE_DIR): built with Gloo only';
    }
  }
  const libs = torch.libDirs.some((d) => existsSync(join(d, 'libgloo.so'))) ? ['-lgloo'] : [];
  return { defines, includes: [...new Set(includes)], libs, note };
}

const distributed = distributedConfig(torch);
const newestSource = Math.max(...inputs.filter((s) => existsSync(s)).map((s) => statSync(s).mtimeMs));
const stampText = JSON.stringify({ ...torch, distributed: distributed.defines });
if (existsSync(addon) && existsSync(stamp) && statSync(addon).mtimeMs > newestSource && readFileSync(stamp, 'utf8') === stampText) {
  console.log(`native addon up to date (${torch.source})`);
  process.exit(0);
}

mkdirSync(outDir, { recursive: true });
const libs = ['-ltorch', '-ltorch_cpu', '-lc10'];
if (torch.cuda) libs.push('-ltorch_cuda', '-lc10_cuda');
const tmpOut = `${addon}.tmp-${process.pid}`;
const objDir = join(outDir, `obj-${process.pid}`);
mkdirSync(objDir, { recursive: true });
const cxx = process.env.CXX || 'g++';
// /usr/include is already a system dir; naming it again breaks libstdc++'s #include_next.
const systemIncludes = (dirs) => dirs.filter((d) => d !== '/usr/include').map((d) => `-isystem${d}`);
const common = [
  '-O2', '-std=c++17', '-fPIC', '-fvisibility=hidden',
  `-D_GLIBCXX_USE_CXX11_ABI=${torch.cxx11Abi ? 1 : 0}`,
  ...(torch.cuda ? ['-DAPLNET_WITH_CUDA'] : []),
  ...systemIncludes(torch.includeDirs),
];
const compile = async (source, object, extra) => {
  try {
    await run(cxx, [...common, ...extra, '-c', source, '-o', object], { cwd: root, maxBuffer: 64 << 20 });
    return null;
  } catch (err) {
    return `${err.stderr || ''}${err.message}`;
  }
};
const coreObject = join(objDir, 'aplnet.o');
const distributedObject = join(objDir, 'distributed.o');
console.log(`building native addon against ${torch.source}${torch.cuda ? ' (CUDA)' : ' (CPU)'}, distributed: ${distributed.defines.length ? distributed.defines.filter((d) => d.startsWith('-DUSE_')).map((d) => d.slice(11).toLowerCase()).join(', ') : `none (${distributed.note})`} ...`);
const started = Date.now();
try {
  const [coreError, distributedError] = await Promise.all([
    compile(coreSource, coreObject, [
      // An OP body that the table does not export is a mistake, not dead code to keep.
      '-Werror=unused-function',
      '-DNAPI_VERSION=8', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
      `-I${nodeIncludeDir()}`, `-I${require('node-addon-api').include_dir}`,
    ]),
    compile(distributedSource, distributedObject, [...distributed.defines, ...systemIncludes(distributed.includes)]),
  ]);
  if (coreError) {
    console.error(coreError);
    process.exit(1);
  }
  let distributedLibs = distributed.libs;
  if (distributedError && distributed.defines.length) {
    // The addon must still build: the distributed entries then throw, naming this reason.
    console.warn(`warning: native/distributed.cc does not compile against ${torch.source} with c10d; building without distributed support.\n${distributedError.split('\n').filter((l) => /error/.test(l)).slice(0, 8).join('\n')}`);
    const note = `native/distributed.cc did not compile against ${torch.source}; see the build log`;
    const fallback = await compile(distributedSource, distributedObject, [`-DAPLNET_C10D_NOTE=${JSON.stringify(note)}`]);
    if (fallback) {
      console.error(fallback);
      process.exit(1);
    }
    distributedLibs = [];
  } else if (distributedError) {
    console.error(distributedError);
    process.exit(1);
  }
  await run(cxx, [
    '-shared', coreObject, distributedObject, '-o', tmpOut,
    ...torch.libDirs.flatMap((d) => [`-L${d}`, `-Wl,-rpath,${d}`]),
    '-Wl,--no-as-needed', ...libs, ...distributedLibs, '-Wl,--as-needed',
  ], { cwd: root }).catch((err) => {
    console.error(`${err.stderr || ''}${err.message}`);
    process.exit(1);
  });
  renameSync(tmpOut, addon);
  writeFileSync(stamp, stampText);
} finally {
  rmSync(objDir, { recursive: true, force: true });
  rmSync(tmpOut, { force: true });
}
console.log(`built ${addon} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
