#!/usr/bin/env bash
# PostgreSQL and Redis for the tests, on loopback, with their own data folders and ports (never the system's).
#   services.sh start   installs them from Debian if missing (as root), starts both, prints the variables to export
#   services.sh stop    stops both and removes their data
# test.sh runs "start" before the tests and "stop" after them; the tests read T2I_TEST_POSTGRES and T2I_TEST_REDIS.
set -uo pipefail

dir="${T2I_SERVICES_DIR:-${TMPDIR:-/tmp}/t2i-test-services}"
pg_port="${T2I_TEST_POSTGRES_PORT:-55432}"
redis_port="${T2I_TEST_REDIS_PORT:-56379}"

say() { echo "$@" >&2; }

pg_bin() {
  local newest
  newest=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$newest" ] && echo "$newest"
}

as_owner() {
  # PostgreSQL refuses to run as root: as root it runs as the "postgres" account Debian's package made.
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_missing() {
  local wanted=()
  [ -n "$(pg_bin)" ] || wanted+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || wanted+=(redis-server)
  [ ${#wanted[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != "0" ]; then
    say "PostgreSQL and Redis are needed for the tests. Install them with:"
    say "  sudo apt-get install -y ${wanted[*]}"
    return 1
  fi
  say "Installing ${wanted[*]} for the tests (apt-get install)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${wanted[@]}" >/dev/null
}

start() {
  install_missing || return 1
  stop >/dev/null 2>&1
  mkdir -p "$dir"
  local bin; bin=$(pg_bin)
  local pg="$dir/pg"
  mkdir -p "$pg"
  [ "$(id -u)" = "0" ] && chown -R postgres:postgres "$dir" && chmod 700 "$dir"
  as_owner "$bin/initdb" -D "$pg/data" -U t2i -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { say "initdb failed:"; cat "$dir/initdb.log" >&2; return 1; }
  # fsync off: test data need not survive a power cut, and CI's two cores thank us.
  as_owner "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
    -o "-p $pg_port -k $pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null \
    || { say "PostgreSQL did not start:"; cat "$pg/server.log" >&2; return 1; }
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    || { say "Redis did not start:"; cat "$dir/redis.log" >&2; return 1; }
  # --daemonize reports success before the port is bound: ask the server itself, and make sure it is ours.
  local answered=""
  for _ in $(seq 1 100); do
    if [ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" = "PONG" ]; then answered=yes; break; fi
    sleep 0.1
  done
  if [ -z "$answered" ] || [ ! -f "$dir/redis.pid" ] \
     || [ "$(redis-cli -p "$redis_port" config get pidfile 2>/dev/null | tail -n 1)" != "$dir/redis.pid" ]; then
    say "Redis did not start on port $redis_port (is another one using it? T2I_TEST_REDIS_PORT picks another):"
    cat "$dir/redis.log" >&2 2>/dev/null
    return 1
  fi
  echo "export T2I_TEST_POSTGRES='Host=127.0.0.1;Port=$pg_port;Username=t2i;Database=postgres'"
  echo "export T2I_TEST_REDIS='127.0.0.1:$redis_port'"
}

stop() {
  local bin; bin=$(pg_bin)
  if [ -n "$bin" ] && [ -f "$dir/pg/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/pg/data" -m immediate -w stop >/dev/null 2>&1
  fi
  if [ -f "$dir/redis.pid" ]; then
    local pid; pid=$(cat "$dir/redis.pid" 2>/dev/null)
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start || { stop >/dev/null 2>&1; exit 1; } ;;
  stop) stop ;;
  *) say "usage: $0 start|stop"; exit 2 ;;
esac
