#!/usr/bin/env bash
# Large media downloads under load: GET /v2/media/{id}.wav of a 50 MiB WAV from Switchboard (Basic
# auth, SQLite + files) against nginx serving the same bytes from disk (one worker, sendfile on),
# both on loopback and pinned to core 0, wrk pinned to core 1. A bare node:http server piping
# fs.createReadStream to the response (bench/bare-file-server.mjs) shows what Node's usual way
# of sending a file costs.
#
# The Switchboard servers run with --trace-gc (one log line per GC, negligible next to 50 MiB
# responses; TRACE_GC=0 turns it off) so the table can show V8 mark-compacts per second.
#
# The machine may be shared: every measured run first waits (up to BENCH_QUIET_WAIT s) until processes outside
# this benchmark use at most 10% of a core, and is repeated (up to 3 times) if they used more than
# 15% during it; the "other CPU" column shows what they used in the run that counts. Runs are
# interleaved (every server once per round).
#
#   bash bench/download.sh [duration-seconds] [rounds] ["connection counts"] [size-MiB]
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
rounds="${2:-3}"
conns_list="${3:-1 8 32}"
size_mib="${4:-50}"
node_flags=(); [ "${TRACE_GC:-1}" = 0 ] || node_flags=(--trace-gc)

for tool in wrk nginx; do
  if ! command -v "$tool" >/dev/null && ! [ -x "/usr/sbin/$tool" ]; then
    pkg=$tool; [ "$tool" = nginx ] && pkg=nginx-light
    echo "installing $pkg (Debian package)…" >&2
    (apt-get install -y "$pkg" || (apt-get update && apt-get install -y "$pkg")) >/dev/null
  fi
done
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
[ -d node_modules ] || npm ci --silent
npm run build --silent

. bench/lib.sh
. bench/report.sh
chmod 755 "$work"


mkdir -p "$work/www"
node bench/make-wav.mjs "$work/www/media.wav" $((size_mib * 1024 * 1024)) 11
chmod 644 "$work/www/media.wav"
sha=$(sha256sum "$work/www/media.wav" | cut -d' ' -f1)

names=(sb bare nginx)
declare -A label=([sb]="switchboard" [bare]="bare node:http + fs.createReadStream" [nginx]="nginx (sendfile)")

declare -A url auth spid
# start_switchboard NAME: starts the built server, uploads the file, sets url/auth/spid
start_switchboard() {
  local name=$1 port out user pass body id
  port=$(free_port)
  out="$work/$name.out"
  (SWITCHBOARD_MEDIA_MAX_BYTES=$(( (size_mib + 10) * 1024 * 1024 )) \
    exec taskset -c 0 node "${node_flags[@]}" dist/src/cli.js serve --port "$port" --data-dir "$work/$name-data") >"$out" 2>&1 &
  spid[$name]=$!
  pids+=("${spid[$name]}")
  wait_for "http://127.0.0.1:$port/healthz"
  for _ in $(seq 50); do grep -q "curl -u" "$out" && break; sleep 0.1; done
  user=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\1/p' "$out")
  pass=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\2/p' "$out")
  body=$(curl -s -u "$user:$pass" -F "file=@$work/www/media.wav;type=audio/wav" "http://127.0.0.1:$port/v2/media")
  id=$(node -e 'const b=JSON.parse(process.argv[1]); if (!Number.isInteger(b.id)) process.exit(1); console.log(b.id)' "$body") \
    || { echo "$name: upload failed: $body" >&2; exit 1; }
  url[$name]="http://127.0.0.1:$port/v2/media/$id.wav"
  auth[$name]=$(printf '%s:%s' "$user" "$pass" | base64 -w0)
}
start_switchboard sb

bare_port=$(free_port)
taskset -c 0 node "${node_flags[@]}" bench/bare-file-server.mjs "$bare_port" "$work/www/media.wav" >"$work/bare.out" 2>&1 &
spid[bare]=$!
pids+=("${spid[bare]}")
wait_for "http://127.0.0.1:$bare_port/media.wav"
url[bare]="http://127.0.0.1:$bare_port/media.wav"

# nginx: one worker, sendfile, as the current user, everything in the temp dir.
nginx_port=$(free_port)
mkdir -p "$work/nginx/tmp"
nginx_user=""
[ "$(id -u)" = 0 ] && nginx_user="user $(id -un) $(id -gn);"
cat >"$work/nginx/nginx.conf" <<CONF
$nginx_user
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  types { audio/wav wav; }
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
  }
}
CONF
taskset -c 0 "$nginx_bin" -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_for "http://127.0.0.1:$nginx_port/media.wav"
url[nginx]="http://127.0.0.1:$nginx_port/media.wav"
auth[nginx]=${auth[sb]}   # sent and ignored: every server gets the same request bytes
auth[bare]=${auth[sb]}
spid[nginx]=$(pgrep -P "$(cat "$work/nginx/nginx.pid")" | head -1)   # the worker

# Every server must send exactly the file's bytes.
for name in "${names[@]}"; do
  got=$(curl -sf -H "Authorization: Basic ${auth[$name]}" "${url[$name]}" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$sha" ] || { echo "$name: downloaded sha256 $got != $sha" >&2; exit 1; }
done

# major_gcs NAME → V8 mark-compacts so far in the server's log (0 for nginx)
major_gcs() { if [ -f "$work/$1.out" ]; then grep -c "Mark-Compact" "$work/$1.out" || true; else echo 0; fi; }
# run NAME CONNECTIONS ROUND → "MiB/s requests/s server-CPU% wrk-CPU% other-CPU% mark-compacts/s"
run() {
  local name=$1 c=$2 r=$3 out t0 t1 f0 f1 g0 g1 times result attempt
  out="$work/$name-c$c-r$r.wrk"
  for attempt in 1 2 3; do
    wait_quiet
    f0=$(node bench/foreign-cpu.mjs ticks $$)
    t0=$(cpu_ticks "${spid[$name]}")
    g0=$(major_gcs "$name")
    times=$( { TIMEFORMAT='%U %S %R'; time taskset -c 1 wrk -t1 -c"$c" -d"${duration}s" --timeout 60s \
      -H "Authorization: Basic ${auth[$name]}" "${url[$name]}" >"$out"; } 2>&1 )
    t1=$(cpu_ticks "${spid[$name]}")
    g1=$(major_gcs "$name")
    f1=$(node bench/foreign-cpu.mjs ticks $$)
    if grep -q "Non-2xx\|Socket errors" "$out"; then echo "$name c$c: errors" >&2; cat "$out" >&2; exit 1; fi
    result=$(awk -v ticks=$((t1 - t0)) -v other=$((f1 - f0)) -v gcs=$((g1 - g0)) -v wt="$times" '
      /^Requests\/sec:/ {rps = $2}
      /^Transfer\/sec:/ {v = $2; f = 1
        if (v ~ /GB$/) f = 1024; else if (v ~ /KB$/) f = 1 / 1024; else if (v !~ /MB$/) f = 1 / 1048576
        sub(/[KMG]?B$/, "", v); mibs = v * f}
      END {split(wt, w, " "); printf "%.1f %.2f %.0f %.0f %.0f %.1f\n", mibs, rps, ticks / w[3], 100 * (w[1] + w[2]) / w[3], other / w[3], gcs / w[3]}' "$out")
    [ "$(echo "$result" | cut -d' ' -f5)" -le 15 ] && break
    [ "$attempt" = 3 ] || echo "  $name c$c round $r: other processes used $(echo "$result" | cut -d' ' -f5)% of a core meanwhile; repeating" >&2
  done
  echo "$result"
}

declare -A res
load0=$(machine_load)
for c in $conns_list; do
  for name in "${names[@]}"; do   # warm-up: JIT, page cache, TCP windows
    taskset -c 1 wrk -t1 -c"$c" -d2s --timeout 60s -H "Authorization: Basic ${auth[$name]}" "${url[$name]}" >/dev/null
  done
  for r in $(seq "$rounds"); do
    for name in "${names[@]}"; do
      res[$name,$c,$r]=$(run "$name" "$c" "$r")
      echo "c$c round $r ${label[$name]}: ${res[$name,$c,$r]} (MiB/s req/s server-CPU% wrk-CPU% other-CPU% mark-compacts/s)" >&2
    done
  done
done

col() { local vals=() r; for r in $(seq "$rounds"); do vals+=("$(echo "${res[$1,$2,$r]}" | cut -d' ' -f"$3")"); done; stats "${vals[@]}"; }
# ratio A B C → median/min/max over rounds of 100 * A / B at C connections
ratio() { local vals=() r; for r in $(seq "$rounds"); do
  vals+=("$(awk -v a="$(echo "${res[$1,$3,$r]}" | cut -d' ' -f1)" -v b="$(echo "${res[$2,$3,$r]}" | cut -d' ' -f1)" 'BEGIN {printf "%.1f", 100 * a / b}')")
done; stats "${vals[@]}"; }

echo
echo "GET of a ${size_mib} MiB WAV, wrk -t1 -d${duration}s, $rounds rounds, median (min–max); servers on core 0, wrk on core 1"
echo "($(nproc) cores, node $(node -v), $("$nginx_bin" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)). MiB/s is wrk's Transfer/sec (binary units);"
echo "CPU columns are medians in % of one core: the server process (for nginx its worker), wrk, everything else on the machine;"
echo "major GC/s: V8 mark-compacts per second in the server (median)."
printf '%-6s %-40s %22s %8s %8s %6s %7s %11s\n' conns server "MiB/s" "req/s" server wrk other "major GC/s"
for c in $conns_list; do
  for name in "${names[@]}"; do
    read -r m lo hi < <(col "$name" "$c" 1)
    read -r q _ _ < <(col "$name" "$c" 2)
    read -r s _ _ < <(col "$name" "$c" 3)
    read -r w _ _ < <(col "$name" "$c" 4)
    read -r o _ _ < <(col "$name" "$c" 5)
    read -r g glo ghi < <(col "$name" "$c" 6)
    [ "$name" = nginx ] && g="-" glo="" || g="$g ($glo–$ghi)"
    printf '%-6s %-40s %22s %8s %7.0f%% %5.0f%% %6.0f%% %11s\n' "$c" "${label[$name]}" "$m ($lo–$hi)" "$q" "$s" "$w" "$o" "$g"
  done
done
echo
echo "ratios, median of the per-round ratios (min–max):"
load="$load0, $(machine_load)"
for c in $conns_list; do
  read -r m lo hi < <(STATS_DECIMALS=2 ratio sb nginx "$c")
  m=$(awk -v v="$m" 'BEGIN {printf "%.2f", v / 100}'); lo=$(awk -v v="$lo" 'BEGIN {printf "%.2f", v / 100}'); hi=$(awk -v v="$hi" 'BEGIN {printf "%.2f", v / 100}')
  printf 'c%-3s switchboard / nginx: %s (%s–%s)  target >= 0.85: %s\n' "$c" "$m" "$lo" "$hi" "$(met "$m" ">=" 0.85)"
  read -r b _ _ < <(ratio bare nginx "$c")
  printf 'c%-3s bare node:http / nginx: %s%%   switchboard / bare node:http: %s%%\n' "$c" "$b" "$(ratio sb bare "$c" | cut -d' ' -f1)"
  bench_row "GET /v2/media/{id}.wav, ${size_mib} MiB, $c connection(s): MiB/s" "$(col sb "$c" 1 | cut -d' ' -f1)" "nginx sendfile $(col nginx "$c" 1 | cut -d' ' -f1)" "$m ($lo–$hi)" "≥ 0.85" "$(met "$m" ">=" 0.85)" "$load"
done
