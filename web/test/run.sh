#!/bin/sh
# ctest's entry to the web tests: runs `node ARGS` in web/, or exits 77 (skipped) when Node.js or
# web/node_modules is absent on a developer's machine. Under CI (CI set) that is a failure:
# scripts/deps.sh installs them.
cd "$(dirname "$0")/.." || exit 1
if ! command -v node >/dev/null || [ ! -d node_modules/esbuild ]; then
  echo "web tests: node or web/node_modules missing (bash scripts/deps.sh installs them)" >&2
  [ -n "$CI" ] && exit 1
  exit 77
fi
exec node "$@"
