// Finds libtorch the way tch-rs does: LIBTORCH, then LIBTORCH_USE_PYTORCH=1, then Debian's system paths.
// Prints a JSON description when run directly; build-native.mjs imports it.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class LibtorchNotFound extends Error {}

const HOW_TO_FIX = `libtorch was not found. Give aplnet one of:
  1. LIBTORCH=/path/to/libtorch   (a folder with include/ and lib/, e.g. an unpacked libtorch zip)
  2. LIBTORCH_USE_PYTORCH=1       (use the libtorch inside python3's torch; PYTHON=... picks the interpreter)
  3. Debian's package:            sudo apt-get install libtorch-dev   (CPU, libtorch 1.13)`;

function fromFolder(root, source) {
  const include = join(root, 'include');
  const lib = join(root, 'lib');
  if (!existsSync(join(include, 'ATen', 'ATen.h'))) {
    throw new LibtorchNotFound(`${source}=${root} has no include/ATen/ATen.h.\n${HOW_TO_FIX}`);
  }
  return {
    source,
    includeDirs: [include, join(include, 'torch', 'csrc', 'api', 'include')],
    libDirs: [lib],
    cuda: existsSync(join(lib, 'libtorch_cuda.so')),
    cxx11Abi: guessAbiFromFolder(lib),
  };
}

function guessAbiFromFolder(lib) {
  // The pre-cxx11 ABI builds of libtorch are published with this marker in their build info.
  const info = join(lib, '..', 'build-version');
  if (existsSync(info) && readFileSync(info, 'utf8').includes('pre-cxx11')) return false;
  return true;
}

function fromPytorch() {
  const python = process.env.PYTHON || 'python3';
  const script = [
    'import json, torch',
    'from torch.utils import cpp_extension as c',
    'print(json.dumps({"include": c.include_paths(), "lib": c.library_paths(),',
    ' "abi": bool(torch._C._GLIBCXX_USE_CXX11_ABI), "cuda": torch.version.cuda is not None,',
    ' "version": torch.__version__}))',
  ].join('\n');
  let out;
  try {
    out = execFileSync(python, ['-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new LibtorchNotFound(`LIBTORCH_USE_PYTORCH=1 but "${python} -c 'import torch'" failed: ${err.stderr || err.message}\n${HOW_TO_FIX}`);
  }
  const info = JSON.parse(out.trim().split('\n').pop());
  return {
    source: `pytorch ${info.version} (${python})`,
    includeDirs: info.include,
    libDirs: info.lib,
    cuda: info.cuda,
    cxx11Abi: info.abi,
  };
}

function fromDebian() {
  const header = '/usr/include/ATen/ATen.h';
  const libDir = '/usr/lib/x86_64-linux-gnu';
  const arch = process.arch === 'arm64' ? '/usr/lib/aarch64-linux-gnu' : libDir;
  if (!existsSync(header) || !existsSync(join(arch, 'libtorch.so'))) return null;
  return {
    source: 'debian libtorch-dev',
    includeDirs: ['/usr/include', '/usr/include/torch/csrc/api/include'],
    libDirs: [arch],
    cuda: existsSync(join(arch, 'libtorch_cuda.so')),
    cxx11Abi: true,
  };
}

export function findLibtorch(env = process.env) {
  if (env.LIBTORCH) return fromFolder(env.LIBTORCH, 'LIBTORCH');
  if (env.LIBTORCH_USE_PYTORCH === '1') return fromPytorch();
  const debian = fromDebian();
  if (debian) return debian;
  throw new LibtorchNotFound(HOW_TO_FIX);
}

export function isDebian() {
  return existsSync('/etc/debian_version');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(JSON.stringify(findLibtorch()));
  } catch (err) {
    console.error(err.message);
    process.exit(2);
  }
}
