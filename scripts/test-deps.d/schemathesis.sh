#!/usr/bin/env bash
# schemathesis (PyPI) for scripts/schemathesis: fuzzes a running node against GET /openapi.json.
# Installed into the git-ignored virtualenv .stack/venv (not a project dependency). Idempotent:
# does nothing when the pinned version is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${SCHEMATHESIS_VENV:-$root/.stack/venv}"
version="${SCHEMATHESIS_VERSION:-4.32.5}"
st="$venv/bin/st"

installed() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true
}

if [ -x "$st" ] && [ "$(installed)" = "$version" ]; then
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
echo "[schemathesis] installed $(installed)"
