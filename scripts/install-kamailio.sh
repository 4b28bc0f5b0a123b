#!/usr/bin/env bash
# Installs Kamailio from Debian (package `kamailio`, 5.6.x on bookworm) for the benchmark against siplb
# (issue 4) and test/e2e/kamailio-smoke.test.ts. The base package carries every module the benchmark
# config loads (tm, sl, rr, maxfwd, pv, siputils, textops, dispatcher, kex, ctl...).
#
# Idempotent: when `kamailio` is already installed nothing is downloaded (`apt-get update` runs at most
# once, and only when the package is missing). The package starts a system service on install; we run
# our own instance in the foreground (bench/sipp/kamailio.ts), so the service is stopped and disabled
# on every run, which also keeps its port 5060 and its CPU out of the measurements.
set -euo pipefail

export PATH="${PATH}:/usr/sbin:/sbin"

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
  else
    SUDO=(__no_sudo__)
  fi
fi

need_root() {
  if [[ ${SUDO[0]:-} == __no_sudo__ ]]; then
    echo "install-kamailio: need root or sudo to $*" >&2
    exit 1
  fi
}

if ! command -v kamailio >/dev/null 2>&1; then
  need_root "install kamailio"
  echo "install-kamailio: installing kamailio"
  "${SUDO[@]}" apt-get update
  # policy-rc.d exit 101: tells invoke-rc.d not to start the service during the install (containers
  # without systemd would otherwise try the init script). Removed again right after.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e ${policy} ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "${policy}" >/dev/null
    "${SUDO[@]}" chmod 755 "${policy}"
    added_policy=1
  fi
  status=0
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends kamailio || status=$?
  if ((added_policy)); then "${SUDO[@]}" rm -f "${policy}"; fi
  ((status == 0)) || exit "${status}"
fi

# Stop and disable any packaged service; each step is best effort (no systemd in containers, no
# service installed, already stopped).
if [[ ${SUDO[0]:-} != __no_sudo__ ]]; then
  if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
    "${SUDO[@]}" systemctl disable --now kamailio >/dev/null 2>&1 || true
  else
    if [[ -x /etc/init.d/kamailio ]]; then
      "${SUDO[@]}" /etc/init.d/kamailio stop >/dev/null 2>&1 || true
    fi
    if command -v update-rc.d >/dev/null 2>&1; then
      "${SUDO[@]}" update-rc.d kamailio disable >/dev/null 2>&1 || true
    fi
  fi
fi
# A daemonised instance started by the package writes its pid here; make sure it is gone.
for pidfile in /run/kamailio/kamailio.pid /var/run/kamailio/kamailio.pid; do
  if [[ -r ${pidfile} ]]; then
    pid=$(cat "${pidfile}" 2>/dev/null || true)
    if [[ ${pid} =~ ^[0-9]+$ ]] && [[ $(cat "/proc/${pid}/comm" 2>/dev/null || true) == kamailio ]]; then
      echo "install-kamailio: stopping the packaged kamailio (pid ${pid})"
      if [[ ${SUDO[0]:-} == __no_sudo__ ]]; then kill "${pid}" || true; else "${SUDO[@]}" kill "${pid}" || true; fi
    fi
  fi
done

version=$(kamailio -v 2>&1 | head -n 1)
if [[ -z ${version} ]]; then
  echo "install-kamailio: kamailio -v printed nothing" >&2
  exit 1
fi
echo "${version}"
