#!/usr/bin/env bash
# Drains tests talk to a real syslog receiver: rsyslog (imtcp, imudp, gtls driver for TLS) and
# openssl for the test CA. The benchmark's peer reads Kafka with rsyslog-kafka (imkafka).
set -euo pipefail
need=()
command -v rsyslogd >/dev/null 2>&1 || need+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need+=(rsyslog-gnutls)
ls /usr/lib/*/rsyslog/imkafka.so >/dev/null 2>&1 || need+=(rsyslog-kafka)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
export DEBIAN_FRONTEND=noninteractive
# Packages must not start a system rsyslog (the tests run their own, unprivileged ports).
policy_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy_added=1
fi
echo "[test-deps] installing ${need[*]}"
apt-get install -y --no-install-recommends "${need[@]}" || { apt-get update && apt-get install -y --no-install-recommends "${need[@]}"; }
[ $policy_added -eq 1 ] && rm -f /usr/sbin/policy-rc.d
exit 0
