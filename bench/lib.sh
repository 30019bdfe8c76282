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
# Waits (up to 10 min) until processes outside this benchmark use at most 10% of a core.
wait_quiet() {
  for _ in $(seq 600); do [ "$(node bench/foreign-cpu.mjs percent $$ 1)" -le 10 ] && return 0; done
  echo "  (other processes kept the machine busy for 10 minutes; measuring anyway)" >&2
}
# cpu_ticks PID → utime+stime of the whole process (all threads), in 1/100 s
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# stats VALUES… → "median min max"
stats() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {printf "%.1f %.1f %.1f\n", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[1], v[NR]}'; }
