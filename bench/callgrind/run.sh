#!/usr/bin/env bash
# Instructions per operation of W1, W1s, W2 and W5, ours beside the baseline, counted by
# callgrind: the same figures on every run, however loaded the machine is.
# Usage: bash bench/callgrind/run.sh (needs valgrind); FEATURES=introspect counts with the
# runtime's `introspect` feature on (its own build directory).
set -euo pipefail
cd "$(dirname "$0")"
FEATURES=${FEATURES:-}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/../../target}/callgrind${FEATURES:+-$FEATURES}
cargo build --quiet --release ${FEATURES:+--features "$FEATURES"}
binary=$CARGO_TARGET_DIR/release/coroutine-callgrind

# Prints the instructions callgrind counts for `binary $1 $2`.
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$1" "$2" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# Prints instructions per operation of case $1 and baseline $2, with $3 operations, and the ratio.
compare() {
  local fixed ours base
  fixed=$(count none "$3")
  ours=$(count "$1" "$3")
  base=$(count "$2" "$3")
  awk -v o="$ours" -v b="$base" -v f="$fixed" -v n="$3" -v case="$1" -v baseline="$2" 'BEGIN {
    printf "%-28s %8.1f instructions/op   %-26s %8.1f   ratio %.2f\n",
      case, (o - f) / n, baseline, (b - f) / n, (o - f) / (b - f) }'
}

compare W1/coroutine W1/async_fn 1000000
compare W1/coroutine_lazy W1/async_fn 1000000
compare W1s/coroutine_block_on W1s/async_fn_block_on 100000
compare W1s/coroutine_local_pool W1s/async_fn_local_pool 100000
compare W2/coroutine_lazy W2/async_fn 200000
compare W2/coroutine W2/boxed_async_fn 200000
compare W1s/coroutine_io_loop W1s/async_fn_tokio_local_set 100000
compare W5/coroutines_io_loop W5/async_fns_local_pool 100000
compare W5/coroutines_io_loop W5/async_fns_tokio_local_set 100000

# W3, pending children woken in shuffled order: instructions per child of each join beside
# futures_buffered::join_all. Each case runs three joins (the thread's first, and two that reuse its
# wakers); the children's own setup (`W3p/setup`) is taken off.
compare_join() {
  local fixed ours base
  fixed=$(count W3p/setup "$3")
  ours=$(count "W3p/$1" "$3")
  base=$(count "W3p/$2" "$3")
  awk -v o="$ours" -v b="$base" -v f="$fixed" -v n="$3" -v case="$1" -v baseline="$2" 'BEGIN {
    printf "W3p/%-24s %8.1f instructions/child  %-26s %8.1f   ratio %.2f  (%d children)\n",
      case, (o - f) / (3 * n), baseline, (b - f) / (3 * n), (o - f) / (b - f), n }'
}

for n in 100 1000 10000; do
  compare_join coroutine futures_buffered "$n"
done
