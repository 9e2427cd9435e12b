#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster from the system's
# PostgreSQL binaries, and OPSDECK_TEST_POSTGRES_URL pointing at it.
#   scripts/with-postgres.sh cargo test --workspace
# The cluster lives in a temporary folder and is removed afterwards.
set -euo pipefail

pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do
  [ -x "$dir/initdb" ] && pg_bin="$dir"
done
if [ -z "$pg_bin" ]; then
  echo "with-postgres: no PostgreSQL server binaries found (apt-get install postgresql)" >&2
  exit 1
fi

port="${OPSDECK_PG_PORT:-55432}"
root="$(mktemp -d /tmp/opsdeck-pg.XXXXXX)"
run_as_pg=()
if [ "$(id -u)" = "0" ]; then
  # initdb refuses to run as root: use the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  chown postgres "$root"
  chmod 700 "$root"
  run_as_pg=(runuser -u postgres --)
fi

cleanup() {
  "${run_as_pg[@]}" "$pg_bin/pg_ctl" -D "$root/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$root"
}
trap cleanup EXIT

"${run_as_pg[@]}" "$pg_bin/initdb" -D "$root/data" -A trust -U postgres --no-sync >"$root/initdb.log" 2>&1 \
  || { cat "$root/initdb.log" >&2; exit 1; }
"${run_as_pg[@]}" "$pg_bin/pg_ctl" -D "$root/data" -w -l "$root/server.log" \
  -o "-p $port -k $root -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null \
  || { cat "$root/server.log" >&2; exit 1; }

export OPSDECK_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on port $port" >&2
"$@"
