#!/usr/bin/env bash
# The GPU figures of the scaling issue, in one run on a machine with a CUDA build of PyTorch (its
# libtorch is what aplnet links against there) and a Node 20 binary on PATH. Writes its logs and the
# figures to $OUT (default /tmp/aplnet-gpu):
#   build.log        the native build against PyTorch's libtorch (LIBTORCH_USE_PYTORCH=1)
#   engine-cuda.log  `npm run bench -- engine --device cuda`: the same keys as on the CPU
#   gpu.log          `npm run bench -- gpu`: float32 / bf16 autocast / channels-last, side by side
#                    with Python PyTorch on the same net, and the presets' img/s
# Usage (from the checkout's root, with dist/ built and node_modules present):
#   bash bench/gpu-device.sh
set -uo pipefail
OUT=${OUT:-/tmp/aplnet-gpu}
mkdir -p "$OUT"
export LIBTORCH_USE_PYTORCH=1
[ -n "${NODE_INCLUDE_DIR:-}" ] || [ ! -d .device/node-include ] || export NODE_INCLUDE_DIR=$PWD/.device/node-include
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  nproc
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
  node --version
} 2>&1 | tee "$OUT/machine.txt"
start=$(date +%s)
node scripts/build-native.mjs 2>&1 | tee "$OUT/build.log"
[ "${PIPESTATUS[0]}" = 0 ] || { echo "native build failed; see $OUT/build.log"; exit 1; }
echo "native build: $(( $(date +%s) - start )) s" | tee -a "$OUT/build.log"
node -e "import('./dist/src/torch/index.js').then((t) => console.log('libtorch', t.libtorchVersion(), 'cuda', t.cudaIsAvailable(), 'gpus', t.cudaDeviceCount(), 'distributed', t.availableBackends()))" 2>&1 | tee -a "$OUT/build.log"
node dist/bench/run.js engine --device cuda --threads 8 --steps 300 --warmup 30 --python python3 2>&1 | tee "$OUT/engine-cuda.log"
node dist/bench/run.js gpu --device cuda --threads 8 --rounds 3 --python python3 2>&1 | tee "$OUT/gpu.log"
