#!/usr/bin/env bash
# make run-pg: a local PostgreSQL cluster in $PG_DIR and two kmipd nodes
# sharing it, on 127.0.0.1:$PORT_A and :$PORT_B, with the development PKI
# (also in $PG_DIR). Ctrl-C stops the nodes and the cluster; the data stays
# for the next run. As root, PostgreSQL runs as the postgres user.
set -euo pipefail

BIN=${BIN:-bin/kmipd}
PG_DIR=$(realpath -m "${PG_DIR:-.kmipd-dev-pg}")
PORT_A=${PORT_A:-5696}
PORT_B=${PORT_B:-5697}
DB=kmip

initdb=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$initdb" ]; then
  echo "run-pg needs PostgreSQL's server programs: apt-get install postgresql" >&2
  exit 1
fi
pgbin=$(dirname "$(realpath "$initdb")")

as_pg=()
mkdir -p "$PG_DIR/data" "$PG_DIR/sock"
chmod 700 "$PG_DIR/data"
if [ "$(id -u)" = 0 ]; then
  as_pg=(runuser -u postgres --)
  chmod 711 "$PG_DIR" # postgres passes through to its own subdirectories
  chown postgres: "$PG_DIR/data" "$PG_DIR/sock"
  if ! runuser -u postgres -- test -w "$PG_DIR/data"; then
    echo "run-pg: the postgres user cannot reach $PG_DIR; set PG_DIR to a directory it can" >&2
    exit 1
  fi
fi
pg() { "${as_pg[@]}" "$pgbin/$1" "${@:2}"; }

if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
  pg initdb -D "$PG_DIR/data" -U kmipd --auth=trust -E UTF8 --locale=C >/dev/null
fi
pg pg_ctl -D "$PG_DIR/data" -l "$PG_DIR/sock/server.log" -w -s \
  -o "-c listen_addresses='' -c unix_socket_directories=$PG_DIR/sock -c port=5432" start

pids=()
stop() {
  trap - EXIT INT TERM
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pg pg_ctl -D "$PG_DIR/data" -m fast -w -s stop || true
}
trap stop EXIT INT TERM

psql=("$pgbin/psql" -h "$PG_DIR/sock" -p 5432 -U kmipd -X -q -t -A)
if [ "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  "${psql[@]}" -d postgres -c "CREATE DATABASE $DB"
fi

cat > "$PG_DIR/kmipd-pg.toml" <<TOML
[storage]
type = "postgres"
url = "host=$PG_DIR/sock port=5432 user=kmipd dbname=$DB sslmode=disable"
TOML

# Node A first: it writes the development PKI that node B then reuses.
"$BIN" -dev -dev-dir "$PG_DIR" -config "$PG_DIR/kmipd-pg.toml" -port "$PORT_A" -https-address "" $RUN_FLAGS &
pids+=($!)
for _ in $(seq 100); do
  [ -f "$PG_DIR/client-admin.pem" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PORT_A") 2>/dev/null && break
  sleep 0.1
done
"$BIN" -dev -dev-dir "$PG_DIR" -config "$PG_DIR/kmipd-pg.toml" -port "$PORT_B" -https-address "" $RUN_FLAGS &
pids+=($!)
echo "run-pg: kmipd nodes on 127.0.0.1:$PORT_A and 127.0.0.1:$PORT_B share PostgreSQL database $DB (socket in $PG_DIR/sock)"
wait -n "${pids[@]}"
