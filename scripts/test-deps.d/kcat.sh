#!/usr/bin/env bash
# kcat (librdkafka's command-line producer/consumer): spec/integration/kafka-compression.spec.ts
# writes its snappy, lz4, zstd and gzip topics with it, as fluentd/Vector/librdkafka producers do.
set -euo pipefail
command -v kcat >/dev/null 2>&1 && exit 0
export DEBIAN_FRONTEND=noninteractive
echo "[test-deps] installing kcat"
apt-get install -y --no-install-recommends kcat || { apt-get update && apt-get install -y --no-install-recommends kcat; }
