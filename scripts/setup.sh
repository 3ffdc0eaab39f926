#!/usr/bin/env bash
# Sets aplnet up on a fresh machine: libtorch (Debian's libtorch-dev when none is found), npm
# packages, the native addon and the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need_sudo() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! node scripts/find-libtorch.mjs >/dev/null 2>&1; then
  if [ -f /etc/debian_version ] && [ -z "${LIBTORCH:-}" ] && [ "${LIBTORCH_USE_PYTORCH:-}" != "1" ]; then
    echo "libtorch not found: installing Debian's libtorch-dev (CPU, libtorch 1.13) …"
    need_sudo apt-get update -qq
    need_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libtorch-dev >/dev/null
  else
    node scripts/find-libtorch.mjs   # prints the three ways to provide libtorch, then fails
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run --silent build
