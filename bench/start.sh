#!/usr/bin/env bash
# `npm start` until its port opens: on a fresh clone (the first start builds everything: tsc and
# the Vite pages) and again on the tree it built (the incremental build finds nothing to do).
# The clone shares this tree's node_modules (as after `npm install`), starts on an empty data
# folder each time, and is stopped as soon as /healthz answers.
#
#   bash bench/start.sh [warm-runs]
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-5}"
[ -d node_modules ] || npm ci --silent
. bench/lib.sh
. bench/report.sh

# A fresh checkout of this tree as it is (committed or not, without what git ignores).
mkdir "$work/clone"
git ls-files -z --cached --others --exclude-standard --deduplicate | xargs -0 -I{} sh -c '[ -e "{}" ] && echo "{}"' \
  | tar -cf - -T - | tar -xf - -C "$work/clone"
ln -s "$PWD/node_modules" "$work/clone/node_modules"

now_ms() { date +%s%3N; }
# start_once → milliseconds from `npm start` until /healthz answers
start_once() {
  local port t0 t1 group
  port=$(free_port)
  rm -rf "$work/data"
  t0=$(now_ms)
  (cd "$work/clone" && exec setsid npm start --silent -- --port "$port" --data-dir "$work/data" --log-level warn >"$work/start.out" 2>&1) &
  group=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do
    kill -0 "$group" 2>/dev/null || { echo "npm start exited:" >&2; cat "$work/start.out" >&2; exit 1; }
    sleep 0.02
  done
  t1=$(now_ms)
  kill -TERM -- "-$group" 2>/dev/null || true
  wait "$group" 2>/dev/null || true
  echo $((t1 - t0))
}

wait_quiet
load=$(machine_load)
cold=$(start_once)
warm=()
for _ in $(seq "$runs"); do wait_quiet; warm+=("$(start_once)"); done
read -r med lo hi < <(stats "${warm[@]}")
echo "npm start until the port answers: fresh clone ${cold} ms; built tree median ${med} ms (${lo}–${hi}, ${runs} runs); load ${load}"
# A one-off build is no target; the built tree's start is (< 3 s).
bench_row "\`npm start\`, fresh clone (builds everything)" "${cold} ms" "—" "—" "—" "—" "$load"
bench_row "\`npm start\`, tree already built" "${med%.*} ms (${lo%.*}–${hi%.*})" "—" "—" "< 3000 ms" "$(awk -v m="$med" 'BEGIN {print (m < 3000) ? "yes" : "no"}')" "$load"
