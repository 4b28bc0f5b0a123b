#!/usr/bin/env bash
# Throwaway database servers for the SQL destination tests (and for trying SIPLB_DB_URL by hand):
#
#   scripts/db-server.sh start postgres|mariadb DIR   prints the connection URL on stdout
#   scripts/db-server.sh stop  postgres|mariadb DIR   stops it and deletes DIR
#
# DIR is a new or empty directory (e.g. from mktemp -d; it is given to the service user, so its
# parent must be traversable, as /tmp is) that holds the data, socket and log. The server listens on
# 127.0.0.1 only, on a free port, runs as its Debian service user (postgres, mysql), and has a
# database `siplb` owned by user `siplb` with password `siplb`. The Debian package is installed when
# its binaries are missing (needs root, as everything here does: initdb and mariadbd refuse to run
# as root, so the script switches to the service user). Start and stop are bounded (20 s).
set -euo pipefail

action=${1:-}
kind=${2:-}
dir=${3:-}
if [[ -z ${action} || -z ${kind} || -z ${dir} ]]; then
  echo "usage: $0 start|stop postgres|mariadb DIR" >&2
  exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "$0: needs root (it installs packages and switches to the postgres or mysql user)" >&2
  exit 1
fi

# A failed step says which and shows the end of the log it wrote, not just a bare exit status.
trap 'rc=$?; if ((rc != 0)); then echo "$0 ${action} ${kind}: failed (exit ${rc}), line ${LINENO}" >&2; tail -n 15 "${dir}"/*.log >&2 2>/dev/null || true; fi' EXIT

# The service user runs the server; everything it writes is under DIR (never the system cluster).
as() { runuser -u "$1" -- "${@:2}"; }

install_if_missing() { # install_if_missing BINARY PACKAGE
  [[ -x $1 ]] && return 0
  apt-get update >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$2" >/dev/null
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }

start_postgres() {
  if [[ -z $(pg_bin) ]]; then install_if_missing /nonexistent postgresql; fi
  local bin port
  bin=$(pg_bin)
  port=$(free_port)
  mkdir -p "${dir}"
  chown postgres: "${dir}"
  echo siplb >"${dir}/pw"
  chown postgres: "${dir}/pw"
  # Password over TCP (scram), so the URL carries a real password; trust on the private socket.
  as postgres "${bin}/initdb" -D "${dir}/data" -U postgres --pwfile="${dir}/pw" --auth-host=scram-sha-256 --auth-local=trust -E UTF8 >"${dir}/initdb.log" 2>&1
  as postgres timeout 20 "${bin}/pg_ctl" -D "${dir}/data" -l "${dir}/server.log" -w -t 15 \
    -o "-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  as postgres timeout 10 "${bin}/psql" -h "${dir}" -p "${port}" -U postgres -q -v ON_ERROR_STOP=1 \
    -c "CREATE USER siplb PASSWORD 'siplb'" -c "CREATE DATABASE siplb OWNER siplb" >/dev/null
  echo "${port}" >"${dir}/port"
  echo "postgres://siplb:siplb@127.0.0.1:${port}/siplb"
}

stop_postgres() {
  local bin
  bin=$(pg_bin)
  if [[ -f "${dir}/data/postmaster.pid" ]]; then
    as postgres timeout 20 "${bin}/pg_ctl" -D "${dir}/data" -m immediate -w -t 15 stop >/dev/null || true
  fi
}

start_mariadb() {
  install_if_missing /usr/sbin/mariadbd mariadb-server
  local port
  port=$(free_port)
  mkdir -p "${dir}"
  chown mysql: "${dir}"
  # --no-defaults: nothing from /etc/mysql (the system server's port, socket and data dir).
  timeout 30 mariadb-install-db --no-defaults --user=mysql --datadir="${dir}/data" --auth-root-authentication-method=socket \
    --skip-test-db >"${dir}/install.log" 2>&1
  as mysql /usr/sbin/mariadbd --no-defaults --datadir="${dir}/data" --socket="${dir}/mysqld.sock" --port="${port}" \
    --bind-address=127.0.0.1 --pid-file="${dir}/mysqld.pid" --log-error="${dir}/server.log" \
    --innodb-buffer-pool-size=16M --innodb-log-file-size=8M --skip-name-resolve </dev/null >/dev/null 2>&1 &
  local i
  for ((i = 0; i < 200; i++)); do
    if mariadb-admin --no-defaults --socket="${dir}/mysqld.sock" -uroot ping >/dev/null 2>&1; then break; fi
    sleep 0.1
  done
  if ((i == 200)); then
    echo "$0: mariadbd did not answer within 20 s; its log:" >&2
    tail -n 20 "${dir}/server.log" >&2 || true
    exit 1
  fi
  mariadb --no-defaults --socket="${dir}/mysqld.sock" -uroot -e \
    "CREATE DATABASE siplb; CREATE USER 'siplb'@'127.0.0.1' IDENTIFIED BY 'siplb'; GRANT ALL ON siplb.* TO 'siplb'@'127.0.0.1';"
  echo "${port}" >"${dir}/port"
  echo "mysql://siplb:siplb@127.0.0.1:${port}/siplb"
}

stop_mariadb() {
  [[ -f "${dir}/mysqld.pid" ]] || return 0
  local pid i
  pid=$(cat "${dir}/mysqld.pid")
  kill "${pid}" 2>/dev/null || return 0
  for ((i = 0; i < 200; i++)); do
    kill -0 "${pid}" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "${pid}" 2>/dev/null || true
}

case "${action}:${kind}" in
  start:postgres) start_postgres ;;
  start:mariadb) start_mariadb ;;
  stop:postgres) stop_postgres && rm -rf "${dir}" ;;
  stop:mariadb) stop_mariadb && rm -rf "${dir}" ;;
  *)
    echo "usage: $0 start|stop postgres|mariadb DIR" >&2
    exit 2
    ;;
esac
