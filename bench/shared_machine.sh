#!/usr/bin/env bash
# Each subcommand on an idle machine and next to one competing CPU-bound process, side by side
# in one run, under libgomp's spinning wait policy (OMP_WAIT_POLICY=active, what gradquant ran
# with before it chose its own default) and under gradquant's default (passive: no variable set).
# Prints one CSV row per (input, command, policy, load): the median wall time of REPEAT runs,
# and the loaded/idle ratio in the loaded rows.
#   bench/shared_machine.sh [BIG_DUMP]    (BIG_DUMP: a generated dump, see bench/RESULTS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
GQ=${GQ:-build/apps/gradquant}
REPEAT=${REPEAT:-3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"; [ -n "${BUSY:-}" ] && kill "$BUSY" 2>/dev/null || true' EXIT

inputs=(data/fmnist_cnn.h5)
[ $# -ge 1 ] && inputs+=("$1")

commands=(
  "compress @ -q dqsg:s=3 -o $OUT/c.h5 --format csv"
  "analyze @ -q dqsg:s=3 -q qsgd:s=4 -q qsgd:s=7,bucket=512 --by all --format csv"
  "optimize @ --bits 2,3 --budget 2 --families qsgd,tnq,topk --format csv"
)

# Median wall time in seconds of REPEAT runs of "$@".
median_time() {
  local times=()
  for _ in $(seq "$REPEAT"); do
    local t0 t1
    t0=$(date +%s.%N)
    "$@" > /dev/null
    t1=$(date +%s.%N)
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n "$(( (REPEAT + 1) / 2 ))p"
}

echo "input,command,policy,load,seconds,loaded_over_idle"
for input in "${inputs[@]}"; do
  for command in "${commands[@]}"; do
    name=${command%% *}
    read -r -a args <<< "${command//@/$input}"
    for policy in active default; do
      env_args=()
      [ "$policy" = active ] && env_args=(OMP_WAIT_POLICY=active)
      idle=$(median_time env "${env_args[@]}" "$GQ" "${args[@]}")
      sh -c 'while :; do :; done' & BUSY=$!
      loaded=$(median_time env "${env_args[@]}" "$GQ" "${args[@]}")
      kill "$BUSY"; wait "$BUSY" 2>/dev/null || true; BUSY=
      printf '%s,%s,%s,idle,%.3f,\n' "$input" "$name" "$policy" "$idle"
      printf '%s,%s,%s,loaded,%.3f,%.2f\n' "$input" "$name" "$policy" "$loaded" \
        "$(awk -v a="$idle" -v b="$loaded" 'BEGIN { print b / a }')"
    done
  done
done
