#!/usr/bin/env bash
# Server memory while a large media upload streams through it: uploads a 200 MiB WAV (a valid
# header followed by generated PCM, streamed from disk by curl -F file=@…) to POST /v2/media and
# samples the server's VmRSS every 20 ms before, during and after. Each run starts a fresh server
# pinned to core 0 (curl and the sampler on core 1), warms it up with a 1 MiB upload and download,
# then measures. It checks the upload (200 and {"id":…}) and that the downloaded bytes hash the same.
# The machine may be shared: each upload first waits (up to BENCH_QUIET_WAIT s) until processes outside this
# benchmark use at most 10% of a core (bench/foreign-cpu.mjs); RSS hardly depends on it, time does.
#
#   bash bench/upload-memory.sh [runs] [size-MiB]
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
size_mib="${2:-200}"
limit_bytes=$(( (size_mib + 10) * 1024 * 1024 ))   # SWITCHBOARD_MEDIA_MAX_BYTES: the file plus 10 MiB

[ -d node_modules ] || npm ci --silent
npm run build --silent

. bench/lib.sh
. bench/report.sh

now_ms() { date +%s%3N; }
# rss_at FILE FROM TO → the highest RSS (KiB) sampled in [FROM, TO] ms; last_rss FILE BEFORE → the last sample before BEFORE.
max_rss() { awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b && $2 > m {m = $2} END {print m + 0}' "$1"; }
last_rss() { awk -v t="$2" '$1 < t {v = $2} END {print v + 0}' "$1"; }

echo "generating a ${size_mib} MiB WAV and a 1 MiB warm-up WAV…" >&2
node bench/make-wav.mjs "$work/big.wav" $(( size_mib * 1024 * 1024 )) 7
node bench/make-wav.mjs "$work/warm.wav" $(( 1024 * 1024 )) 3
big_sha=$(sha256sum "$work/big.wav" | cut -d' ' -f1)

results=()
load0=$(machine_load)
for run in $(seq "$runs"); do
  port=$(free_port)
  data="$work/data-$run"
  SWITCHBOARD_MEDIA_MAX_BYTES=$limit_bytes taskset -c 0 node dist/src/cli.js serve --port "$port" --data-dir "$data" >"$work/serve-$run.out" 2>&1 &
  server=$!
  pids+=("$server")
  wait_for "http://127.0.0.1:$port/healthz"
  for _ in $(seq 50); do grep -q "curl -u" "$work/serve-$run.out" && break; sleep 0.1; done
  user=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\1/p' "$work/serve-$run.out")
  pass=$(sed -n 's/^  API credential: *\([^ ]*\) \/ \(.*\)$/\2/p' "$work/serve-$run.out")
  base="http://127.0.0.1:$port/v2"

  samples="$work/rss-$run"
  taskset -c 1 node bench/rss-sampler.mjs "$server" 20 >"$samples" &
  sampler=$!
  pids+=("$sampler")
  sleep 1
  t_cold=$(now_ms)

  # Warm-up: load the multipart, sniffing and probing code and JIT the paths once.
  warm=$(curl -s -u "$user:$pass" -F "file=@$work/warm.wav" "$base/media")
  warm_id=$(node -e 'console.log(JSON.parse(process.argv[1]).id)' "$warm")
  curl -sf -u "$user:$pass" -o /dev/null "$base/media/$warm_id.wav"
  wait_quiet
  t_up=$(now_ms)

  status=$(taskset -c 1 curl -s -o "$work/upload-$run.json" -w '%{http_code} %{time_total}' -u "$user:$pass" \
    -F "file=@$work/big.wav;type=audio/wav" "$base/media")
  t_up_end=$(now_ms)
  read -r code upload_s <<<"$status"
  body=$(cat "$work/upload-$run.json")
  if [ "$code" != 200 ] || ! id=$(node -e 'const b=JSON.parse(process.argv[1]); if (!Number.isInteger(b.id)) process.exit(1); console.log(b.id)' "$body" 2>/dev/null); then
    echo "run $run: upload failed: HTTP $code $body" >&2; exit 1
  fi
  sleep 0.5
  t_down=$(now_ms)
  down_sha=$(taskset -c 1 curl -sf -u "$user:$pass" "$base/media/$id.wav" | sha256sum | cut -d' ' -f1)
  t_down_end=$(now_ms)
  if [ "$down_sha" != "$big_sha" ]; then echo "run $run: downloaded sha256 $down_sha != uploaded $big_sha" >&2; exit 1; fi
  sleep 0.5

  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  kill "$server"; wait "$server" 2>/dev/null || true

  cold=$(last_rss "$samples" "$t_cold")
  before=$(last_rss "$samples" "$t_up")
  peak_up=$(max_rss "$samples" "$t_up" "$t_up_end")
  peak_down=$(max_rss "$samples" "$t_down" "$t_down_end")
  n=$(awk -v a="$t_up" -v b="$t_up_end" '$1 >= a && $1 <= b' "$samples" | wc -l)
  results+=("$(awk -v c="$cold" -v b="$before" -v p="$peak_up" -v d="$peak_down" -v s="$upload_s" -v m="$size_mib" -v n="$n" -v id="$id" \
    'BEGIN {printf "%.1f %.1f %.1f %.1f %.1f %.1f %.1f %d %d", c/1024, b/1024, p/1024, (p-b)/1024, (d-b)/1024, s, m/s, n, id}')")
  echo "run $run: id $id, sha256 ok; ${results[-1]}" >&2
done

echo
echo "POST /v2/media with a ${size_mib} MiB WAV (curl -F file=@…), server on core 0, curl on core 1, VmRSS every 20 ms ($(nproc) cores, node $(node -v))"
printf '%-4s %10s %12s %12s %14s %16s %10s %10s %8s\n' run "idle MiB" "before MiB" "peak MiB" "upload +MiB" "download +MiB" "upload s" "MiB/s" samples
i=0
for r in "${results[@]}"; do
  i=$((i + 1))
  read -r c b p g d s t n _ <<<"$r"
  printf '%-4s %10s %12s %12s %14s %16s %10s %10s %8s\n' "$i" "$c" "$b" "$p" "$g" "$d" "$s" "$t" "$n"
done
# median and spread (min–max) of the peak growth during the upload
printf '%s\n' "${results[@]}" | awk '{print $4}' | sort -n | awk -v runs="$runs" '
  {v[NR] = $1} END {
    med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "peak RSS growth during the upload: median %.1f MiB (min %.1f, max %.1f, %d runs) — target < 64 MiB: %s\n",
      med, v[1], v[NR], NR, (med < 64 && v[NR] < 64) ? "met" : "NOT met"
  }'
printf '%s\n' "${results[@]}" | awk '{print $7}' | sort -n | awk '{v[NR] = $1} END {
    printf "upload throughput: median %.1f MiB/s (min %.1f, max %.1f)\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR]
  }'
read -r med lo hi < <(stats $(printf '%s\n' "${results[@]}" | awk '{print $4}'))
bench_row "POST /v2/media, ${size_mib} MiB: server RSS growth during the upload" "$med MiB ($lo–$hi, $runs runs)" "RSS before the upload $(stats $(printf '%s\n' "${results[@]}" | awk '{print $2}') | cut -d' ' -f1) MiB" "—" "< 64 MiB" "$(awk -v m="$hi" 'BEGIN {print (m < 64) ? "yes" : "no"}')" "$load0, $(machine_load)"
