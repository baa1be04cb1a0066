#!/usr/bin/env bash
# Instructions per cold plan of each redistribution benchmark case: valgrind's count for 3 plans minus that for 1,
# halved, so that start-up and the first plan's allocations drop out. Deterministic, unlike the benchmark's times,
# which moved by 1.5x between runs of one binary on the reference machine: compare builds with this. Run from the
# repository root after a Release build:
#   benchmarks/plan_instructions.sh                 every case (about 2 minutes)
#   benchmarks/plan_instructions.sh 6 7             cases 6 and 7 (numbers: build/benchmarks/shardplan_plan_loop)
set -euo pipefail

LOOP=${LOOP:-build/benchmarks/shardplan_plan_loop}
if [[ ! -x "$LOOP" ]]; then
  echo "plan_instructions.sh: $LOOP not found; build the benchmarks first (cmake --build build)" >&2
  exit 2
fi
if ! command -v valgrind > /dev/null; then
  echo "plan_instructions.sh: valgrind not found" >&2
  exit 2
fi

count() {  # instructions of `$LOOP case plans`
  valgrind --tool=lackey --basic-counts=yes "$LOOP" "$1" "$2" 2>&1 >/dev/null |
    awk '/guest instrs/ { gsub(",", "", $NF); print $NF; exit }'
}

cases=("$@")
if [[ ${#cases[@]} -eq 0 ]]; then
  mapfile -t cases < <("$LOOP" | awk '{ print $1 }')
fi
for c in "${cases[@]}"; do
  name=$("$LOOP" | awk -v c="$c" '$1 == c { $1 = ""; sub(/^ /, ""); print }')
  one=$(count "$c" 1)
  three=$(count "$c" 3)
  printf '%-60s %12d\n' "$name" $(((three - one) / 2))
done
