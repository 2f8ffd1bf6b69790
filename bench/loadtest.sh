#!/usr/bin/env bash
# Load test of the nethttp example server on loopback, one store after the
# other: builds the server and cmd/loadtest once, then for each store starts
# the server (a fresh bolt file, Redis database 13; TRUSTED_PROXIES
# 127.0.0.1/32 so the flood's X-Forwarded-For addresses in 127.0.0.0/8 are
# believed), runs the quiet, flood and refresh scenarios, and stops it.
#
#   bash bench/loadtest.sh                  # memory bolt redis
#   bash bench/loadtest.sh memory           # one store
#   LOADTEST_FLAGS='-duration 5s -users 200' bash bench/loadtest.sh memory
#
# PORT (default 18080), REDIS_URL (default redis://127.0.0.1:6379/13; the
# store's keys, {gatekeep:*, are deleted from that database at the end),
# LOADTEST_FLAGS (extra flags for cmd/loadtest; see its -h).
set -euo pipefail
cd "$(dirname "$0")"

stores=("$@")
[ ${#stores[@]} -gt 0 ] || stores=(memory bolt redis)
port="${PORT:-18080}"
redis_url="${REDIS_URL:-redis://127.0.0.1:6379/13}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/gatekeep-load.XXXXXX")"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap 'stop_server; rm -rf "$tmp"' EXIT

(cd .. && go build -o "$tmp/server" ./examples/nethttp)
go build -o "$tmp/loadtest" ./cmd/loadtest
echo "# $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $(go version | cut -d' ' -f3)"

for st in "${stores[@]}"; do
  # The server runs in $tmp so that no .env file of the checkout is read.
  (cd "$tmp" && exec env ADDR="127.0.0.1:$port" AUTH_STORE="$st" BOLT_PATH="$tmp/$st.db" REDIS_URL="$redis_url" \
    JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n')" TRUSTED_PROXIES=127.0.0.1/32 \
    REGISTER_MAX_PER_IP=1000000 REGISTER_MAX_TOTAL=1000000 \
    ./server >"$tmp/server-$st.log" 2>&1) &
  server_pid=$!
  up=""
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then up=1; break; fi
    sleep 0.1
  done
  if [ -z "$up" ]; then
    echo "loadtest: the server ($st) did not start:"; cat "$tmp/server-$st.log"; exit 1
  fi
  # shellcheck disable=SC2086
  "$tmp/loadtest" -url "http://127.0.0.1:$port" -label "$st" ${LOADTEST_FLAGS:-}
  stop_server
  if [ "$st" = redis ] && command -v redis-cli >/dev/null 2>&1; then
    redis-cli -u "$redis_url" --scan --pattern '{gatekeep:*' | xargs -r -n 500 redis-cli -u "$redis_url" del >/dev/null
  fi
done
