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
# session_cpu_ms SID → CPU time (user + system, with that of exited children) of the session's processes
session_cpu_ms() {
  node -e '
    const fs = require("fs"); let ticks = 0;
    for (const p of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      let t; try { t = fs.readFileSync(`/proc/${p}/stat`, "latin1"); } catch { continue; }
      const f = t.slice(t.lastIndexOf(")") + 2).split(" ");
      if (Number(f[3]) === Number(process.argv[1])) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    }
    console.log(ticks * 10);' "$1"
}
# start_once → "ms from `npm start` until /healthz answers, CPU ms the start took meanwhile"
start_once() {
  local port t0 t1 group cpu
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
  cpu=$(session_cpu_ms "$group")
  kill -TERM -- "-$group" 2>/dev/null || true
  wait "$group" 2>/dev/null || true
  echo "$((t1 - t0)) $cpu"
}

wait_quiet
load=$(machine_load)
read -r cold cold_cpu < <(start_once)
warm=(); warm_cpu=()
for _ in $(seq "$runs"); do wait_quiet; read -r ms cpu < <(start_once); warm+=("$ms"); warm_cpu+=("$cpu"); done
read -r med lo hi < <(STATS_DECIMALS=0 stats "${warm[@]}")
read -r cpu_med _ _ < <(STATS_DECIMALS=0 stats "${warm_cpu[@]}")
echo "npm start until the port answers: fresh clone ${cold} ms (${cold_cpu} ms CPU); built tree median ${med} ms (${lo}–${hi}, ${runs} runs; ${cpu_med} ms CPU); load ${load}"
# A one-off build is no target; the built tree's start is (< 3 s).
bench_row "\`npm start\`, fresh clone (builds everything): until the port answers" "${cold} ms (${cold_cpu} ms CPU)" "—" "—" "—" "—" "$load"
bench_row "\`npm start\`, tree already built: until the port answers" "${med} ms (${lo}–${hi}; ${cpu_med} ms CPU)" "—" "—" "< 3000 ms" "$(met "$med" "<=" 2999)" "$load, $(machine_load)"
