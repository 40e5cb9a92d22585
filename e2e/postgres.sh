# A throwaway PostgreSQL server for e2e/replicas.sh and bench/replicas.sh (sourced after e2e/lib.sh,
# whose $work and free_port it uses): Debian's postgresql-NN (`initdb` + `pg_ctl`), never a mock. It
# lives in $work/pg, listens on 127.0.0.1:$pg_port and on a socket in $work/pg, and is stopped before
# lib.sh's cleanup removes $work, also on failure. initdb and pg_ctl refuse root: under root they
# run as `nobody`, which then owns $work/pg.
#   pg_init    initdb, start, and the empty database `secrets`; exports PANTHEON_SECRETS_DATABASE
#              (its URL), which `init` and `serve` read
#   pg_start / pg_stop [MODE]   start again / stop (default mode fast)
#   pg_sql SQL [DB]             one statement as the superuser, over the socket
#   pg_cpu_ticks                CPU time (clock ticks) the server has used so far, its exited
#                               backends included

pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n1)
pg=$work/pg
pg_as() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }
pg_start() {
  pg_as "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
    -o "-k $pg -c listen_addresses=127.0.0.1 -p $pg_port -c max_connections=200" start > /dev/null
}
pg_stop() { pg_as "$pg_bin/pg_ctl" -D "$pg/data" -m "${1:-fast}" -w stop > /dev/null; }
pg_sql() { "$pg_bin/psql" -h "$pg" -p "$pg_port" -U postgres -qAt -d "${2:-postgres}" -c "$1"; }
pg_init() {
  [ -x "$pg_bin/initdb" ] || { echo "no PostgreSQL server installed (/usr/lib/postgresql/*/bin/initdb)" >&2; return 1; }
  mkdir "$pg" || return 1
  if [ "$(id -u)" = 0 ]; then chown nobody: "$pg" || return 1; fi
  pg_port=$(free_port)
  pg_as "$pg_bin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 --locale=C > "$pg/initdb.log" 2>&1 \
    || { cat "$pg/initdb.log" >&2; return 1; }
  trap 'set +e; pg_stop immediate 2> /dev/null; cleanup' EXIT
  pg_start || { cat "$pg/server.log" >&2; return 1; }
  pg_sql "CREATE DATABASE secrets" || return 1
  export PANTHEON_SECRETS_DATABASE="postgres://postgres@127.0.0.1:$pg_port/secrets"
}
pg_cpu_ticks() {
  local master pid total
  master=$(head -n1 "$pg/data/postmaster.pid")
  # The postmaster's own time and its reaped children's (fields 14-17), then the live backends'.
  total=$(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$master/stat")
  for pid in $(ps -o pid= --ppid "$master"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2> /dev/null || echo 0)))
  done
  echo "$total"
}
