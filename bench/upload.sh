#!/usr/bin/env bash
# Upload throughput: POST /v2/media of a 20 MiB WAV (curl -F file=@…, one upload at a time) to
# Switchboard as `npm start` runs it, against a bare node:http server streaming the same request
# body to disk with a SHA-256 and an fsync (bench/bare-upload-server.mjs). Servers on core 0, curl
# on core 1; each round uploads <uploads> times to each server in turn, and the ratio is taken
# within the round. Server CPU per MiB (utime+stime from /proc) is shown beside MiB/s.
#
#   bash bench/upload.sh [uploads-per-round] [size-MiB] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."

uploads="${1:-10}"
size_mib="${2:-20}"
rounds="${3:-3}"
[ -d node_modules ] || npm ci --silent
npm run build --silent
. bench/lib.sh
. bench/report.sh

node bench/make-wav.mjs "$work/up.wav" $((size_mib * 1024 * 1024)) 5

port=$(free_port)
SWITCHBOARD_MEDIA_MAX_BYTES=$(( (size_mib + 10) * 1024 * 1024 )) taskset -c 0 node dist/src/cli.js serve --port "$port" --data-dir "$work/data" >"$work/sb.out" 2>&1 &
sb=$!; pids+=("$sb")
wait_for "http://127.0.0.1:$port/healthz"
for _ in $(seq 50); do grep -q "curl -u" "$work/sb.out" && break; sleep 0.1; done
pair=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\1:\2/p' "$work/sb.out")

mkdir -p "$work/bare"
bare_port=$(free_port)
taskset -c 0 node bench/bare-upload-server.mjs "$bare_port" "$work/bare" &
bare=$!; pids+=("$bare")
for _ in $(seq 100); do curl -s -o /dev/null -X POST --data x "http://127.0.0.1:$bare_port/" && break; sleep 0.1; done

declare -A url spid
url[sb]="http://127.0.0.1:$port/v2/media"; spid[sb]=$sb
url[bare]="http://127.0.0.1:$bare_port/"; spid[bare]=$bare

# run NAME → "MiB/s server-CPU-ms-per-MiB"
run() {
  local name=$1 t0 t1 c0 c1 i code
  wait_quiet
  c0=$(cpu_ticks "${spid[$name]}"); t0=$(date +%s%N)
  for i in $(seq "$uploads"); do
    # Switchboard refuses a file it already has: make each upload's PCM differ (outside the timing's
    # main cost: 16 bytes written in place).
    printf '%016d' "$(date +%s%N | tail -c 17)" | dd of="$work/up.wav" bs=1 seek=4096 conv=notrunc status=none
    code=$(taskset -c 1 curl -s -o "$work/answer" -w '%{http_code}' -u "$pair" -F "file=@$work/up.wav;type=audio/wav" "${url[$name]}")
    [ "$code" = 200 ] || { echo "$name: HTTP $code $(cat "$work/answer")" >&2; exit 1; }
  done
  t1=$(date +%s%N); c1=$(cpu_ticks "${spid[$name]}")
  awk -v n="$uploads" -v m="$size_mib" -v ns=$((t1 - t0)) -v ticks=$((c1 - c0)) 'BEGIN {printf "%.1f %.1f\n", n * m / (ns / 1e9), ticks * 10 / (n * m)}'
}

run sb >/dev/null; run bare >/dev/null   # warm-up
declare -A res
load0=$(machine_load)
for r in $(seq "$rounds"); do
  res[sb,$r]=$(run sb); res[bare,$r]=$(run bare)
  res[ratio,$r]=$(awk -v a="${res[sb,$r]%% *}" -v b="${res[bare,$r]%% *}" 'BEGIN {printf "%.3f", a / b}')
  echo "round $r: switchboard ${res[sb,$r]}, bare ${res[bare,$r]} (MiB/s, server CPU ms per MiB); ratio ${res[ratio,$r]}" >&2
done
col() { local vals=() r; for r in $(seq "$rounds"); do vals+=("$(echo "${res[$1,$r]}" | cut -d' ' -f"$2")"); done; stats "${vals[@]}"; }
read -r m lo hi < <(STATS_DECIMALS=2 col ratio 1)
echo "POST /v2/media ${size_mib} MiB x $uploads per round, $rounds rounds: switchboard $(col sb 1 | cut -d' ' -f1) MiB/s ($(col sb 2 | cut -d' ' -f1) ms CPU/MiB), bare $(col bare 1 | cut -d' ' -f1) MiB/s ($(col bare 2 | cut -d' ' -f1) ms CPU/MiB); ratio $m ($lo–$hi)"
bench_row "POST /v2/media, ${size_mib} MiB: MiB/s" "$(col sb 1 | cut -d' ' -f1) ($(col sb 2 | cut -d' ' -f1) ms CPU/MiB)" "bare node:http to disk + SHA-256 + fsync $(col bare 1 | cut -d' ' -f1) ($(col bare 2 | cut -d' ' -f1) ms CPU/MiB)" "$m ($lo–$hi)" "≥ 0.80" "$(met "$m" ">=" 0.80)" "$load0, $(machine_load)"
