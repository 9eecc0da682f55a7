#!/usr/bin/env bash
# Leak check (issue 14): runs the soak and fault tests, scaled down, under valgrind's memcheck
# and fails on any "definitely lost" block. Usage: bash bench/valgrind.sh [test binaries...]
# (default: soak handshakes; the io_loop tests check timer accuracy, which valgrind's slowdown
# breaks). SOAK_DIVISOR (default 1000) scales the soak tests down. See TESTING.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
export SOAK_DIVISOR=${SOAK_DIVISOR:-1000}
status=0
for test in "${@:-soak handshakes}"; do
  for name in $test; do
    binary=$(cargo test -p coroutine-tests --test "$name" --no-run --message-format=json 2>/dev/null |
      sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)
    [ -x "$binary" ] || { echo "no test binary for $name" >&2; exit 2; }
    log=$(mktemp)
    echo "== valgrind: $name ($binary)"
    # One test thread, so that a leak is reported against the test that made it.
    valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
      --log-file="$log" "$binary" --test-threads=1 -q || { echo "FAILED: $name under valgrind" >&2; status=1; }
    grep -E "definitely lost|ERROR SUMMARY" "$log" | sed 's/^==[0-9]*== /  /'
    if grep -qE "definitely lost: [1-9]" "$log"; then
      echo "FAILED: $name leaks memory; the blocks definitely lost:" >&2
      grep -A25 "definitely lost in" "$log" | sed 's/^==[0-9]*== /  /' >&2
      status=1
    fi
    rm -f "$log"
  done
done
[ "$status" = 0 ] && echo "== no leak"
exit "$status"
