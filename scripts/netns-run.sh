#!/usr/bin/env bash
# netns-run.sh CMD [ARG...]: runs CMD in a new, private network namespace whose only interface is
# loopback (up). Tests that send foreign messages to the proxy (the RFC 4475 torture corpus, socket
# fuzzing) run this way so that addresses taken from those messages (192.0.2.x, example.com) can never
# see a packet: with no route out, a send to them fails with ENETUNREACH (DESIGN.md, Tests).
#
# Needs `unshare` (util-linux) and `ip` (iproute2); scripts/install-sipp.sh installs both. As root it
# uses a plain network namespace. Otherwise it adds a user namespace (-r maps the caller to root inside)
# when the kernel allows unprivileged ones; if it does not, this fails with unshare's message.
# The exit status is CMD's.
set -euo pipefail

if (($# == 0)); then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

# /usr/sbin and /sbin are not on every user's PATH; `ip` lives there on Debian.
export PATH="${PATH}:/usr/sbin:/sbin"
for tool in unshare ip; do
  if ! command -v "${tool}" >/dev/null 2>&1; then
    echo "netns-run: '${tool}' not found (install util-linux and iproute2: scripts/install-sipp.sh)" >&2
    exit 127
  fi
done

flags=(--net)
if [[ $(id -u) -ne 0 ]]; then flags+=(--map-root-user); fi

# Inside: bring lo up (a new namespace starts with lo down, so even 127.0.0.1 would be unreachable),
# then replace the shell with CMD so signals and the exit status are CMD's own. "$0" of the inner
# shell is a label for its error messages; the command starts at "$1".
exec unshare "${flags[@]}" -- sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
