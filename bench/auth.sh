#!/usr/bin/env bash
# GET /v2/me/account under load: Switchboard with an API credential, Switchboard with the account
# login (scrypt, behind the verification cache), and a bare node:http server answering the same
# JSON — in one run, each server pinned to core 0 and wrk to core 1.
#
#   bash bench/auth.sh [duration-seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
connections="${2:-50}"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)…" >&2
  (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
fi
[ -d node_modules ] || npm ci --silent
npm run build --silent

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }

# Switchboard on the embedded default (SQLite), as `npm start` runs it, at log level warn.
sb_port=$(free_port)
taskset -c 0 node dist/src/cli.js serve --port "$sb_port" --data-dir "$work/data" --log-level warn >"$work/serve.out" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$sb_port/healthz"
for _ in $(seq 50); do grep -q "curl -u" "$work/serve.out" && break; sleep 0.1; done
api_user=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\1/p' "$work/serve.out")
api_pass=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\2/p' "$work/serve.out")
login_user=$(sed -n 's/^  login (account credentials): \([^ ]*\) \/ \(.*\)$/\1/p' "$work/serve.out")
login_pass=$(sed -n 's/^  login (account credentials): \([^ ]*\) \/ \(.*\)$/\2/p' "$work/serve.out")
body=$(curl -s -u "$api_user:$api_pass" "http://127.0.0.1:$sb_port/v2/me/account")

bare_port=$(free_port)
taskset -c 0 node bench/bare-server.mjs "$bare_port" "$api_user" "$api_pass" "$body" &
pids+=($!)
wait_for "http://127.0.0.1:$bare_port/"

# run NAME URL USER PASSWORD → "requests/s p99-ms"
run() {
  local auth
  auth=$(printf '%s:%s' "$3" "$4" | base64 -w0)
  # A warm-up so the JIT and the verification cache are hot for the measured run (with 2 s the
  # first Switchboard run measured ~10% below the second, whichever principal went first).
  taskset -c 1 wrk -t1 -c"$connections" -d5s -H "Authorization: Basic $auth" "$2" >/dev/null
  taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency -H "Authorization: Basic $auth" "$2" >"$work/$1.wrk"
  if grep -q "Non-2xx" "$work/$1.wrk"; then echo "$1: non-2xx responses" >&2; cat "$work/$1.wrk" >&2; exit 1; fi
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/$1.wrk")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' "$work/$1.wrk")
  echo "$rps $p99"
}

read -r bare_rps bare_p99 < <(run bare "http://127.0.0.1:$bare_port/v2/me/account" "$api_user" "$api_pass")
read -r api_rps api_p99 < <(run api "http://127.0.0.1:$sb_port/v2/me/account" "$api_user" "$api_pass")
read -r login_rps login_p99 < <(run login "http://127.0.0.1:$sb_port/v2/me/account" "$login_user" "$login_pass")

echo "GET /v2/me/account, wrk -t1 -c$connections -d${duration}s, servers on core 0, wrk on core 1 ($(nproc) cores, node $(node -v))"
printf '%-34s %12s %10s\n' "server" "requests/s" "p99 (ms)"
printf '%-34s %12.0f %10.2f\n' "bare node:http (ceiling)" "$bare_rps" "$bare_p99"
printf '%-34s %12.0f %10.2f\n' "switchboard, API credential" "$api_rps" "$api_p99"
printf '%-34s %12.0f %10.2f\n' "switchboard, account login (scrypt)" "$login_rps" "$login_p99"
awk -v b="$bare_rps" -v a="$api_rps" -v l="$login_rps" 'BEGIN {
  printf "API credential / bare:   %5.1f%%  (target >= 50%%)\n", 100 * a / b
  printf "account login / API:     %5.1f%%  (target >= 80%%)\n", 100 * l / a
}'
