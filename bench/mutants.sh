#!/usr/bin/env bash
# Mutation testing of the runtime's core files with cargo-mutants (issue 13); see TESTING.md.
#
#   bash bench/mutants.sh                  # tuple.rs, join.rs, runner.rs, moment.rs, in turn
#   bash bench/mutants.sh join runner      # some of them
#   MUTANTS_ITERATE=1 bash bench/mutants.sh   # only the mutants the last run did not catch
#   MUTANTS_REV=<commit> bash bench/mutants.sh # another commit than HEAD
#
# It mutates a copy of the committed tree (target/mutants/tree, made afresh from HEAD each run,
# with its own target dir kept between runs so rebuilds are incremental), one file per
# cargo-mutants run, one mutant at a time (--in-place allows no more), 60 s of tests per mutant.
# The tests are the integration tests of coroutine-tests that exercise each file (`tests_of`
# below); doc tests are left out to keep a run within a session (under an hour for the four
# files on 2 shared cores).
# No baseline run: cargo-mutants 27.1 runs its baseline on the mutated package's own tests only
# (it has none), ignoring --test-package; run the tests yourself first.
# Results: target/mutants/out/<file>/mutants.out/{caught,missed,timeout,unviable}.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${MUTANTS_DIR:-$root/target/mutants}
tree=$work/tree
mkdir -p "$work/out"
rm -rf "$tree" && mkdir -p "$tree"
git -C "$root" archive "${MUTANTS_REV:-HEAD}" | tar -x -C "$tree"
# The test binaries that exercise each file; passed to the build as well as to the test run
# (a --cargo-test-arg would reach only the run, and every mutant would build every binary).
declare -A tests_of=(
  [tuple]="parallel handshakes mutants"
  [join]="parallel toolkit handshakes soak mutants"
  [runner]="core executors forms mutants"
  [moment]="core parallel toolkit"
)
iterate=()
[ "${MUTANTS_ITERATE:-0}" = 1 ] && iterate=(--iterate)
for file in "${@:-tuple join runner moment}"; do
  for name in $file; do
    echo "== mutants: coroutine-runtime/src/$name.rs"
    tests=()
    for test in ${tests_of[$name]:-core parallel toolkit handshakes}; do
      [ -f "$tree/tests/tests/$test.rs" ] && tests+=(--cargo-arg=--test --cargo-arg="$test")
    done
    (cd "$tree" && CARGO_TARGET_DIR=$work/target cargo mutants --in-place --no-shuffle \
      --baseline skip --timeout 60 --build-timeout 600 "${iterate[@]}" \
      --file "coroutine-runtime/src/$name.rs" --test-package coroutine-tests "${tests[@]}" \
      --output "$work/out/$name" | grep -vE "^ *(Fresh|Compiling|Running) ") ||
      true # cargo-mutants exits non-zero when a mutant is missed
    results=$work/out/$name/mutants.out
    [ -f "$results/outcomes.json" ] || { echo "no results in $results" >&2; exit 1; }
    for outcome in caught missed timeout unviable; do
      echo "$name $outcome: $(cat "$results/$outcome.txt" 2>/dev/null | wc -l)"
    done
  done
done
