#!/usr/bin/env bash
# Installs what the e2e tier needs from Debian: SIPp (package sip-tester), `ip` (iproute2) and
# `unshare` (util-linux) for scripts/netns-run.sh. Idempotent: a second run installs nothing and only
# prints the versions. `apt-get update` runs at most once per invocation, and only when something is
# missing, so a machine that already has everything never touches the network.
set -euo pipefail

# command -> Debian package that provides it.
declare -A NEEDED=([sipp]=sip-tester [ip]=iproute2 [unshare]=util-linux)

missing=()
for cmd in "${!NEEDED[@]}"; do
  # /usr/sbin and /sbin are not on every user's PATH; `ip` lives there on Debian.
  if ! PATH="${PATH}:/usr/sbin:/sbin" command -v "${cmd}" >/dev/null 2>&1; then
    missing+=("${NEEDED[${cmd}]}")
  fi
done

if ((${#missing[@]} > 0)); then
  SUDO=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-sipp: need root or sudo to install: ${missing[*]}" >&2
      exit 1
    fi
    SUDO=(sudo)
  fi
  echo "install-sipp: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi

# `sipp -v` prints the version banner and exits 99 (it treats -v as "show version and stop"), so its
# exit status says nothing: look for the banner instead.
banner=$(sipp -v 2>&1 || true)
version=$(printf '%s\n' "${banner}" | grep -m1 -i 'SIPp v' || true)
if [[ -z ${version} ]]; then
  echo "install-sipp: sipp did not print a version banner:" >&2
  printf '%s\n' "${banner}" >&2
  exit 1
fi
echo "sipp: $(printf '%s' "${version}" | sed 's/^[[:space:]]*//')"
echo "ip: $(PATH="${PATH}:/usr/sbin:/sbin" ip -V 2>&1)"
echo "unshare: $(unshare --version 2>&1)"
