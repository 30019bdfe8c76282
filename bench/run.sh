#!/usr/bin/env bash
# `npm run bench`: every benchmark, one markdown table. Each bench appends its rows (and any
# sections: query plans, per-round detail) to the file named by BENCH_MARKDOWN_OUT (the interface
# is described in bench/report.sh and bench/report.ts); this runner gives each bench its own such
# file, then prints one table (path, figure, baseline in the same run, ratio, target, met?, load)
# under a header with the date and the machine, followed by the sections, and writes it to
# bench/results/latest.md. Each bench's own output goes to bench/results/<name>.log.
#
#   npm run bench                          everything, full settings (calls and credit usage seed
#                                          millions of rows: tens of minutes)
#   npm run bench -- --quick               short runs of everything but the seeded-data benches
#   npm run bench -- --only auth,download  some of them (names below)
set -euo pipefail
cd "$(dirname "$0")/.."

all=(auth download upload start idle convert growth calls credit-usage)
seeded=(calls credit-usage)   # full mode only: they seed millions of rows
quick=0
only=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --only) only=$2; shift ;;
    --only=*) only=${1#--only=} ;;
    *) echo "usage: npm run bench -- [--quick] [--only $(IFS=,; echo "${all[*]}")]" >&2; exit 2 ;;
  esac
  shift
done

selected=()
if [ -n "$only" ]; then
  IFS=, read -r -a selected <<<"$only"
  for name in "${selected[@]}"; do
    [[ " ${all[*]} " == *" $name "* ]] || { echo "no such bench: $name (one of: ${all[*]})" >&2; exit 2; }
  done
else
  for name in "${all[@]}"; do
    [ "$quick" = 1 ] && [[ " ${seeded[*]} " == *" $name "* ]] && continue
    selected+=("$name")
  done
fi

[ -d node_modules ] || npm ci --silent
npm run build --silent
mkdir -p bench/results
export BENCH_QUICK=$quick
[ "$quick" = 1 ] && export BENCH_QUIET_WAIT=${BENCH_QUIET_WAIT:-5}

# command NAME → how to run it (quick settings when BENCH_QUICK=1)
command_for() {
  case $1 in
    auth) if [ "$quick" = 1 ]; then echo "WARMUP=1 bash bench/auth.sh 1 50 3"; else echo "bash bench/auth.sh"; fi ;;
    download) if [ "$quick" = 1 ]; then echo "bash bench/download.sh 2 1 '1 8 32' 50 && bash bench/download.sh 2 1 '1 8 32' 5"; else echo "bash bench/download.sh 10 3 '1 8 32' 50 && bash bench/download.sh 10 3 '1 8 32' 5"; fi ;;
    upload) if [ "$quick" = 1 ]; then echo "bash bench/upload.sh 3 20 && bash bench/upload-memory.sh 1 200"; else echo "bash bench/upload.sh 10 20 && bash bench/upload-memory.sh 3 200"; fi ;;
    start) if [ "$quick" = 1 ]; then echo "bash bench/start.sh 2"; else echo "bash bench/start.sh 5"; fi ;;
    idle) if [ "$quick" = 1 ]; then echo "node bench/idle-connections.mjs 2000"; else echo "node bench/idle-connections.mjs 10000"; fi ;;
    convert) echo "npx tsx bench/convert.ts" ;;
    growth) echo "npx tsx bench/growth.ts" ;;
    calls) if [ "$quick" = 1 ]; then echo "BENCH_CALLS=100000 BENCH_OTHER_CALLS=900000 npx tsx bench/calls.ts"; else echo "npx tsx bench/calls.ts"; fi ;;
    credit-usage) echo "npx tsx bench/credit-usage.ts" ;;
  esac
}
# script NAME → the file it needs (a bench another change has not added yet is skipped)
script_for() { case $1 in idle) echo bench/idle-connections.mjs ;; convert | growth | calls | credit-usage) echo "bench/$1.ts" ;; *) echo "bench/$1.sh" ;; esac; }

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_start=$(cut -d' ' -f1 /proc/loadavg)
rows=()
sections=()
for name in "${selected[@]}"; do
  out="bench/results/$name.md"
  log="bench/results/$name.log"
  : >"$out"
  if [ ! -e "$(script_for "$name")" ]; then
    rows+=("| $name | not run: $(script_for "$name") is missing | | | | | |")
    continue
  fi
  cmd=$(command_for "$name")
  echo "== $name: $cmd (log in $log)" >&2
  t0=$(date +%s)
  if ! BENCH_MARKDOWN_OUT="$PWD/$out" bash -c "$cmd" >"$log" 2>&1; then
    echo "   $name failed; the end of its log:" >&2
    tail -n 5 "$log" >&2
    rows+=("| $name | FAILED (bench/results/$name.log) | | | | no | |")
  fi
  echo "   $name: $(( $(date +%s) - t0 )) s" >&2
  # A bench that writes no markdown of its own (calls.ts, credit-usage.ts) is shown by its output.
  if [ ! -s "$out" ]; then { echo "<!-- bench-section -->"; echo '```text'; cat "$log"; echo '```'; echo "<!-- /bench-section -->"; } >"$out"; fi
  while IFS= read -r line; do rows+=("$line"); done < <(awk '/^<!-- bench-section -->$/ {s = 1; next} /^<!-- \/bench-section -->$/ {s = 0; next} !s && /^\|/' "$out")
  section=$(awk '/^<!-- bench-section -->$/ {s = 1; next} /^<!-- \/bench-section -->$/ {s = 0; print ""; next} s' "$out")
  [ -n "$(echo "$section" | tr -d '[:space:]')" ] && sections+=("### $name"$'\n'"$section")
done

{
  echo "## Benchmark results"
  echo
  echo "$started; $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)), node $(node -v), $(uname -sr);"
  echo "load average $load_start at the start, $(cut -d' ' -f1 /proc/loadavg) at the end$([ "$quick" = 1 ] && echo "; --quick (short runs: sanity only)")."
  echo "Ratios are medians of per-round ratios (range in brackets); the load column is the 1-minute load average while that figure was measured."
  echo
  echo "| path | figure | baseline (same run) | ratio | target | met? | load |"
  echo "| --- | --- | --- | --- | --- | --- | --- |"
  printf '%s\n' "${rows[@]}"
  for section in "${sections[@]}"; do printf '\n%s\n' "$section"; done
} >bench/results/latest.md
cat bench/results/latest.md
