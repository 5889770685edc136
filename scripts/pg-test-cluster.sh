#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for the store tests (started and stopped by ctest
# fixtures, see tests/store/CMakeLists.txt).
#
#   scripts/pg-test-cluster.sh start DIR   # fresh cluster in DIR; URL written to DIR/url
#   scripts/pg-test-cluster.sh stop DIR    # stop it (if running) and remove DIR
#
# The cluster listens on 127.0.0.1 only, at a free port, trusts every local connection
# and runs without fsync: it holds test data only. PostgreSQL refuses to run as root, so
# under root the server runs as the `postgres` system user.
# Environment: VIGIL_PG_BIN overrides the PostgreSQL bin directory.
set -euo pipefail

readonly kMarker=".vigil-pg-test-cluster"
readonly kSuperuser="vigil"
readonly kDatabase="vigil_test"
readonly kStartAttempts=5        # retries if another process grabs the chosen port
readonly kReadySeconds=60
# Unix socket paths are limited to ~107 bytes; ".s.PGSQL.NNNNN.lock" needs 20 of them.
readonly kMaxSocketDirLength=80

die() {
  echo "pg-test-cluster: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# Newest installed PostgreSQL, or the one DIR/data was created with.
find_bin_dir() {
  local version_file="$1"
  if [[ -n "${VIGIL_PG_BIN:-}" ]]; then
    echo "$VIGIL_PG_BIN"
    return
  fi
  if [[ -n "$version_file" && -f "$version_file" ]]; then
    local version
    version="$(cat "$version_file")"
    if [[ -x "/usr/lib/postgresql/$version/bin/pg_ctl" ]]; then
      echo "/usr/lib/postgresql/$version/bin"
      return
    fi
  fi
  local newest
  newest="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then
    echo "$newest"
    return
  fi
  if command -v pg_config >/dev/null 2>&1 && [[ -x "$(pg_config --bindir)/initdb" ]]; then
    pg_config --bindir
    return
  fi
  die "no PostgreSQL server binaries found (looked in /usr/lib/postgresql/*/bin and" \
    "pg_config --bindir); install postgresql or set VIGIL_PG_BIN"
}

# Runs a server command as the account that owns the data directory.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Root's files are not readable by `postgres` by default: let it traverse every parent.
make_traversable() {
  local dir="$1"
  while [[ "$dir" != "/" && -n "$dir" ]]; do
    dir="$(dirname "$dir")"
    if ! runuser -u postgres -- test -x "$dir"; then
      chmod o+x "$dir" || die "cannot make $dir traversable for the postgres user"
    fi
  done
}

port_is_free() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    [[ -z "$(ss -Hltn "sport = :$port" 2>/dev/null)" ]]
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 1
    fi
  fi
}

pick_port() {
  local base=$((20000 + RANDOM % 30000))
  local offset
  for offset in $(seq 0 199); do
    local port=$((base + offset))
    if port_is_free "$port"; then
      echo "$port"
      return
    fi
  done
  die "no free TCP port on 127.0.0.1 in $base..$((base + 199))"
}

show_log_tail() {
  local log="$1"
  if [[ -f "$log" ]]; then
    echo "---- last lines of $log ----" >&2
    tail -n 30 "$log" >&2 || true
  fi
}

# Refuses to delete a directory this script did not create.
remove_cluster_dir() {
  local dir="$1"
  [[ -e "$dir" ]] || return 0
  if [[ -n "$(ls -A "$dir" 2>/dev/null)" && ! -e "$dir/$kMarker" ]]; then
    die "$dir exists and is not a test cluster made by this script; not removing it"
  fi
  if [[ -f "$dir/socket_dir" ]]; then
    rm -rf -- "$(cat "$dir/socket_dir")"
  fi
  rm -rf -- "$dir"
}

stop_server() {
  local dir="$1"
  local data="$dir/data"
  [[ -f "$data/PG_VERSION" ]] || return 0
  local bin
  bin="$(find_bin_dir "$data/PG_VERSION")"
  # pg_ctl status exits 3 when no server runs; anything else non-zero is odd but the
  # directory is about to go, so try stopping anyway.
  if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    if ! as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t "$kReadySeconds" stop >/dev/null; then
      show_log_tail "$dir/server.log"
      die "could not stop the PostgreSQL server in $data"
    fi
  fi
}

socket_dir_for() {
  local dir="$1"
  if ((${#dir} <= kMaxSocketDirLength)); then
    echo "$dir"
  else
    local sock
    sock="$(mktemp -d /tmp/vigil-pg.XXXXXX)"
    echo "$sock" >"$dir/socket_dir"
    echo "$sock"
  fi
}

init_cluster() {
  local dir="$1" bin="$2"
  if [[ "$(id -u)" -eq 0 ]]; then
    getent passwd postgres >/dev/null || die "running as root but there is no 'postgres' user"
    make_traversable "$dir"
  fi
  local sock
  sock="$(socket_dir_for "$dir")"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown -R postgres: "$dir" "$sock"
  fi
  if ! as_owner "$bin/initdb" -D "$dir/data" -A trust -U "$kSuperuser" -E UTF8 --no-locale \
    --no-sync >"$dir/initdb.log" 2>&1; then
    show_log_tail "$dir/initdb.log"
    die "initdb failed for $dir/data"
  fi
  cat >>"$dir/data/postgresql.conf" <<EOF
# vigil throwaway test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

# Starts the server on a free port and prints the port.
start_server() {
  local dir="$1" bin="$2"
  local attempt port
  for attempt in $(seq 1 "$kStartAttempts"); do
    port="$(pick_port)"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$kReadySeconds" \
      -o "-p $port" start >/dev/null 2>&1; then
      echo "$port"
      return
    fi
    # Another process may have taken the port between the check and the bind.
    echo "pg-test-cluster: start on port $port failed (attempt $attempt)" >&2
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  done
  show_log_tail "$dir/server.log"
  die "could not start PostgreSQL in $dir/data after $kStartAttempts attempts"
}

wait_ready() {
  local dir="$1" bin="$2" port="$3"
  local second
  for second in $(seq 1 "$kReadySeconds"); do
    if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$kSuperuser" -d postgres; then
      return
    fi
    sleep 1
  done
  show_log_tail "$dir/server.log"
  die "PostgreSQL on 127.0.0.1:$port not ready after ${second}s"
}

start_cluster() {
  local dir="$1"
  [[ -d "$dir" ]] && stop_server "$dir"
  remove_cluster_dir "$dir"
  mkdir -p "$dir" || die "cannot create $dir"
  dir="$(cd "$dir" && pwd -P)"
  touch "$dir/$kMarker"
  local bin
  bin="$(find_bin_dir "")"
  init_cluster "$dir" "$bin"
  local port
  port="$(start_server "$dir" "$bin")"
  wait_ready "$dir" "$bin" "$port"
  if ! "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$kSuperuser" "$kDatabase" \
    2>"$dir/createdb.log"; then
    cat "$dir/createdb.log" >&2
    show_log_tail "$dir/server.log"
    die "could not create database $kDatabase on 127.0.0.1:$port"
  fi
  local url="postgresql://$kSuperuser@127.0.0.1:$port/$kDatabase"
  echo "$url" >"$dir/url"
  echo "pg-test-cluster: PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') at $url"
}

main() {
  [[ $# -eq 2 ]] || usage
  local command="$1" dir="$2"
  [[ -n "$dir" && "$dir" != "/" ]] || die "refusing to use '$dir' as the cluster directory"
  case "$command" in
    start) start_cluster "$dir" ;;
    stop)
      if [[ -d "$dir" ]]; then
        stop_server "$dir"
        remove_cluster_dir "$dir"
      fi
      ;;
    *) usage ;;
  esac
}

main "$@"
