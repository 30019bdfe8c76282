# Sourced by the benchmark scripts: a temp dir and the processes to stop when the script exits,
# and the helpers they all use.

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2 # let them exit before their files go
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }
# Waits until processes outside this benchmark use at most 10% of a core, for at most
# BENCH_QUIET_WAIT seconds (default 120; `npm run bench -- --quick` sets 5); then measures anyway
# (the results table gives the load of every figure).
wait_quiet() {
  local cap="${BENCH_QUIET_WAIT:-120}"
  for _ in $(seq "$cap"); do [ "$(node bench/foreign-cpu.mjs percent $$ 1)" -le 10 ] && return 0; done
  echo "  (other processes kept the machine busy for ${cap} s; measuring anyway at load $(cut -d' ' -f1 /proc/loadavg))" >&2
}
# cpu_ticks PID → utime+stime of the whole process (all threads), in 1/100 s
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# stats VALUES… → "median min max" (one decimal; STATS_DECIMALS=2 for ratios)
stats() { printf '%s\n' "$@" | sort -g | awk -v d="${STATS_DECIMALS:-1}" '{v[NR] = $1} END {f = "%." d "f"; printf f " " f " " f "\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR]}'; }
