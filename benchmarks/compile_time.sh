#!/usr/bin/env bash
# What including shardplan costs a translation unit: the median wall time of N compiles (`$CXX -std=c++20 -O2 -c`)
# of three TUs, and their preprocessed sizes (`-E | wc -l`):
#   base      <optional>, <string>, <vector>: what almost every TU includes anyway
#   layout    base + shardplan/layout/layout.hpp
#   umbrella  base + shardplan/shardplan.hpp
# and what each adds over the base. Run from the repository root:
#   benchmarks/compile_time.sh            # g++, 5 runs each
#   CXX=clang++ N=9 benchmarks/compile_time.sh
# Extra flags go in $CXXFLAGS. The TUs are compiled in turn (base, layout, umbrella, base, ...) so that a change in
# the machine's load spreads over all three. Timings on a loaded machine vary: compare medians from one run.
set -euo pipefail

CXX=${CXX:-g++}
N=${N:-5}
CXXFLAGS=${CXXFLAGS:-}
ROOT=$(pwd)
if [[ ! -f "$ROOT/include/shardplan/shardplan.hpp" ]]; then
  echo "compile_time.sh: run from the repository root (include/shardplan/shardplan.hpp not found)" >&2
  exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardplan_compile_time.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

BASE_INCLUDES=$'#include <optional>\n#include <string>\n#include <vector>\n'
printf '%s' "$BASE_INCLUDES" > "$WORK/base.cpp"
printf '%s#include "shardplan/layout/layout.hpp"\n' "$BASE_INCLUDES" > "$WORK/layout.cpp"
printf '%s#include "shardplan/shardplan.hpp"\n' "$BASE_INCLUDES" > "$WORK/umbrella.cpp"
for tu in base layout umbrella; do echo 'int shardplan_compile_time_probe() { return 0; }' >> "$WORK/$tu.cpp"; done

# shellcheck disable=SC2206
FLAGS=(-std=c++20 -O2 -I"$ROOT/include" $CXXFLAGS)
TUS=(base layout umbrella)

now_ns() { date +%s%N; }

# One untimed compile each: fails loudly on a broken header and warms the file cache.
for tu in "${TUS[@]}"; do
  "$CXX" "${FLAGS[@]}" -c "$WORK/$tu.cpp" -o "$WORK/$tu.o"
done

declare -A times
for ((i = 0; i < N; ++i)); do
  for tu in "${TUS[@]}"; do
    start=$(now_ns)
    "$CXX" "${FLAGS[@]}" -c "$WORK/$tu.cpp" -o "$WORK/$tu.o"
    end=$(now_ns)
    times[$tu]+="$(( (end - start) / 1000000 )) "
  done
done

median_ms() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
lines() { "$CXX" "${FLAGS[@]}" -E "$WORK/$1.cpp" | wc -l | tr -d ' '; }
seconds() { awk -v ms="$1" 'BEGIN { printf "%.2f", ms / 1000 }'; }
signed_seconds() { awk -v ms="$1" 'BEGIN { printf "%+.2f", ms / 1000 }'; }

echo "compiler: $("$CXX" --version | head -n 1)"
echo "command:  $CXX ${FLAGS[*]} -c <tu>.cpp   (median of $N runs; lines: -E | wc -l)"
printf '%-10s %10s %10s %12s %12s\n' "TU" "seconds" "+seconds" "lines" "+lines"
base_ms=$(median_ms "${times[base]}")
base_lines=$(lines base)
for tu in "${TUS[@]}"; do
  ms=$(median_ms "${times[$tu]}")
  n=$(lines "$tu")
  if [[ $tu == base ]]; then
    printf '%-10s %10s %10s %12s %12s\n' "$tu" "$(seconds "$ms")" "" "$n" ""
  else
    printf '%-10s %10s %10s %12s %12s\n' "$tu" "$(seconds "$ms")" "$(signed_seconds $((ms - base_ms)))" "$n" \
      "$(printf '%+d' $((n - base_lines)))"
  fi
done
