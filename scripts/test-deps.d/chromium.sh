#!/usr/bin/env bash
# The console's browser tests (spec/integration/console.spec.ts) and bench/console.ts drive Debian's
# chromium through playwright-core: no browser is ever downloaded by npm.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
export DEBIAN_FRONTEND=noninteractive
echo "[test-deps] installing chromium"
apt-get install -y --no-install-recommends chromium fonts-dejavu-core || { apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core; }
