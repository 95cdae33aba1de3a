#!/usr/bin/env bash
# schemathesis (PyPI) for scripts/schemathesis: fuzzes a running node against GET /openapi.json.
# Installed once per machine into a virtualenv in the tools cache (LOGWAY_TOOLS_CACHE, default
# ~/.cache/logway), linked from the git-ignored .stack/venv that scripts/schemathesis runs (not a
# project dependency). Idempotent: does nothing when the pinned version is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="${SCHEMATHESIS_VERSION:-4.32.5}"
link="$root/.stack/venv"
cache="${LOGWAY_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/logway}/schemathesis-$version"
# A checkout that made its virtualenv in place before keeps it.
if [ -d "$link" ] && [ ! -L "$link" ]; then cache="$link"; fi
venv="${SCHEMATHESIS_VENV:-$cache}"
st="$venv/bin/st"
link_it() {
  if [ "$venv" != "$link" ] && [ -z "${SCHEMATHESIS_VENV:-}" ]; then
    mkdir -p "$(dirname "$link")"
    ln -sfn "$venv" "$link"
  fi
}

installed() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true
}

if [ -x "$st" ] && [ "$(installed)" = "$version" ]; then
  link_it
  echo "[schemathesis] $version already installed at $st"
  exit 0
fi
command -v python3 >/dev/null 2>&1 || { echo "[schemathesis] python3 is required" >&2; exit 1; }
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "[schemathesis] installing python3-venv"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends python3-venv || { apt-get update && apt-get install -y --no-install-recommends python3-venv; }
fi
mkdir -p "$(dirname "$venv")"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
echo "[schemathesis] installing schemathesis==$version into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "schemathesis==$version"
[ -x "$st" ] || { echo "[schemathesis] install finished but $st is missing" >&2; exit 1; }
link_it
echo "[schemathesis] installed $(installed)"
