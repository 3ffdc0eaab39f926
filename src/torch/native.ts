// Loads aplnet's N-API addon (build/aplnet.node). This file and tensor.ts are the only TypeScript
// that touches native handles; everything above src/torch sees Tensor objects.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeApi } from './native-api.generated.js';

export type { NativeApi } from './native-api.generated.js';
/** An opaque libtorch tensor handle owned by the addon. */
export type Handle = { readonly __brand: 'aplnet.TensorHandle' };

const here = dirname(fileURLToPath(import.meta.url));
// dist/src/torch → repo root is three levels up; src/torch (ts-node style) two.
const candidates = [join(here, '..', '..', '..', 'build', 'aplnet.node'), join(here, '..', '..', 'build', 'aplnet.node')];

function load(): NativeApi {
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(`aplnet's native addon is not built (looked for ${candidates.join(', ')}). Run "npm run build:native" (it needs libtorch: see README "Finding libtorch").`);
  }
  return createRequire(import.meta.url)(path) as NativeApi;
}

/** The addon, typed by the interface generated from native/ops.json. */
export const native = load();
