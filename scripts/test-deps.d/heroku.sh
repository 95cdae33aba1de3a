#!/usr/bin/env bash
# The real Heroku CLI (npm package `heroku`) for spec/integration/heroku-cli.spec.ts.
# Installed into the git-ignored .stack/tools/heroku (not a project dependency). Idempotent:
# does nothing when the pinned major version is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
prefix="${HEROKU_CLI_PREFIX:-$root/.stack/tools/heroku}"
version="${HEROKU_CLI_VERSION:-11}"
bin="$prefix/node_modules/.bin/heroku"

installed_major() {
  node -e 'try{process.stdout.write(String(require(process.argv[1]).version.split(".")[0]))}catch{}' \
    "$prefix/node_modules/heroku/package.json" 2>/dev/null || true
}

if [ -x "$bin" ] && [ "$(installed_major)" = "${version%%.*}" ]; then
  echo "[heroku] CLI $(node -p "require('$prefix/node_modules/heroku/package.json').version") already installed at $bin"
  exit 0
fi
mkdir -p "$prefix"
echo "[heroku] installing heroku@$version into $prefix"
npm install --prefix "$prefix" --no-fund --no-audit --no-save --loglevel=error "heroku@$version" >/dev/null
[ -x "$bin" ] || { echo "[heroku] install finished but $bin is missing" >&2; exit 1; }
echo "[heroku] installed $(node -p "require('$prefix/node_modules/heroku/package.json').version")"
