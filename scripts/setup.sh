#!/usr/bin/env bash
# Sets aplnet up on a fresh machine: libtorch (Debian's libtorch-dev when none is found, and
# libgloo-dev for data-parallel training), npm packages, the native addon and the TypeScript
# build. With --test it also installs what the tests compare against or drive: Debian's
# python3-torch (the PyTorch reference) and chromium (the web page's browser test). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ ! -f /etc/debian_version ]; then
    echo "aplnet setup: $* is needed but this is not Debian; install it with your package manager" >&2
    exit 1
  fi
  if [ "$apt_updated" -eq 0 ]; then need_sudo apt-get update -qq; apt_updated=1; fi
  need_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ "${1:-}" = "--test" ]; then
  missing=()
  /usr/bin/python3 -c "import torch" >/dev/null 2>&1 || missing+=(python3-torch)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing the test dependencies: ${missing[*]} …"
    apt_install "${missing[@]}"
  fi
fi

if ! node scripts/find-libtorch.mjs >/dev/null 2>&1; then
  if [ -f /etc/debian_version ] && [ -z "${LIBTORCH:-}" ] && [ "${LIBTORCH_USE_PYTORCH:-}" != "1" ]; then
    echo "libtorch not found: installing Debian's libtorch-dev (CPU, libtorch 1.13) …"
    apt_install libtorch-dev
  else
    node scripts/find-libtorch.mjs   # prints the three ways to provide libtorch, then fails
  fi
fi

# Data-parallel training (libtorch's c10d with Gloo) is compiled against the gloo headers, which
# Debian ships apart from libtorch-dev; without them the addon builds with distributed turned off.
if [ -f /etc/debian_version ] && [ -z "${LIBTORCH:-}" ] && [ "${LIBTORCH_USE_PYTORCH:-}" != "1" ] && [ ! -f /usr/include/gloo/allreduce.h ]; then
  echo "installing Debian's libgloo-dev (the Gloo headers data-parallel training is built with) …"
  apt_install libgloo-dev
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
