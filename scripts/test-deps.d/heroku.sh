#!/usr/bin/env bash
# The real Heroku CLI (npm package `heroku`) for spec/integration/heroku-cli.spec.ts.
# Installed once per machine into the tools cache (LOGWAY_TOOLS_CACHE, default ~/.cache/logway),
# and linked from the git-ignored .stack/tools/heroku that the spec runs (not a project
# dependency), so a fresh clone does not install it again. Idempotent: does nothing when the
# pinned major version is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="${HEROKU_CLI_VERSION:-11}"
link="$root/.stack/tools/heroku"
cache="${LOGWAY_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/logway}/heroku-$version"
# A checkout that installed it in place before keeps that copy.
if [ -d "$link" ] && [ ! -L "$link" ]; then cache="$link"; fi
prefix="${HEROKU_CLI_PREFIX:-$cache}"
bin="$prefix/node_modules/.bin/heroku"
link_it() {
  if [ "$prefix" != "$link" ] && [ -z "${HEROKU_CLI_PREFIX:-}" ]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn "$prefix" "$link"
  fi
}

installed_major() {
  node -e 'try{process.stdout.write(String(require(process.argv[1]).version.split(".")[0]))}catch{}' \
    "$prefix/node_modules/heroku/package.json" 2>/dev/null || true
}

if [ -x "$bin" ] && [ "$(installed_major)" = "${version%%.*}" ]; then
  link_it
  echo "[heroku] CLI $(node -p "require('$prefix/node_modules/heroku/package.json').version") already installed at $bin"
  exit 0
fi
mkdir -p "$prefix"
echo "[heroku] installing heroku@$version into $prefix"
npm install --prefix "$prefix" --no-fund --no-audit --no-save --loglevel=error "heroku@$version" >/dev/null
[ -x "$bin" ] || { echo "[heroku] install finished but $bin is missing" >&2; exit 1; }
link_it
echo "[heroku] installed $(node -p "require('$prefix/node_modules/heroku/package.json').version")"
