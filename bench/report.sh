# Sourced by the benchmark scripts (after lib.sh): how each bench contributes to `npm run bench`
# (bench/run.sh). A bench appends markdown to the file named by BENCH_MARKDOWN_OUT when it is set:
# lines that start with "|" are rows of the one results table, with the columns below; any other
# lines form sections printed after the table (query plans, per-round detail).
#
#   | path | figure | baseline (same run) | ratio | target | met? | load |

# bench_row PATH FIGURE BASELINE RATIO TARGET MET LOAD → one row of the results table
bench_row() {
  local line="| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"
  echo "$line"
  if [ -n "${BENCH_MARKDOWN_OUT:-}" ]; then echo "$line" >>"$BENCH_MARKDOWN_OUT"; fi
}
# bench_section < MARKDOWN → a section after the table
bench_section() {
  if [ -n "${BENCH_MARKDOWN_OUT:-}" ]; then { echo "<!-- bench-section -->"; cat; echo "<!-- /bench-section -->"; } >>"$BENCH_MARKDOWN_OUT"; else cat >/dev/null; fi
}
# machine_load → the 1-minute load average
machine_load() { cut -d' ' -f1 /proc/loadavg; }
# met VALUE OP LIMIT → "yes" or "no" (OP is >= or <=)
met() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {ok = (op == ">=") ? v >= l : v <= l; print ok ? "yes" : "no"}'; }
