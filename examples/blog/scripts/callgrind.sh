#!/usr/bin/env bash
# Instructions per post-page request, `#[coroutine]` handlers beside the same handlers written as
# `async fn`s, counted by callgrind (src/bin/blog-callgrind.rs): a figure the machine's load
# cannot move, where req/s can. Each count is of one process that serves the blog and asks it
# for the page N times over loopback; the same run with 0 requests is taken off, and the rest is
# divided by N. The two kinds of handlers alternate, ROUNDS times; the median is shown.
#
#   examples/blog/scripts/callgrind.sh [N] [ROUNDS]      # default 500 requests, 3 rounds
#
# SQLite on the IoLoop and on `--threads 2`; PostgreSQL on the IoLoop too when BLOG_TEST_POSTGRES
# is set (run it inside scripts/with-services.sh). Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/../../.."
N=${1:-500}
ROUNDS=${2:-3}
cargo build --quiet --release -p blog --bin blog-callgrind
binary=${CARGO_TARGET_DIR:-target}/release/blog-callgrind

# Prints the instructions callgrind counts for `blog-callgrind "$@"`.
count() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$binary" "$@" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

# Prints the median of its arguments.
median() {
  printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Compares the two kinds of handlers on runtime $1 and database $2 (empty: a fresh SQLite file).
compare() {
  local runtime=$1 db=$2 name=$3 round handlers fixed all per
  local -a coroutine=() async_fn=()
  for ((round = 0; round < ROUNDS; round++)); do
    for handlers in coroutine async-fn; do
      fixed=$(count "$handlers" 0 "$runtime" ${db:+"$db"})
      all=$(count "$handlers" "$N" "$runtime" ${db:+"$db"})
      per=$(((all - fixed) / N))
      if [ "$handlers" = coroutine ]; then coroutine+=("$per"); else async_fn+=("$per"); fi
    done
  done
  awk -v c="$(median "${coroutine[@]}")" -v a="$(median "${async_fn[@]}")" -v name="$name" \
    -v cs="${coroutine[*]}" -v as="${async_fn[*]}" 'BEGIN {
    printf "| %s | %d | %d | %.3f | %s | %s |\n", name, c, a, c / a, cs, as }'
}

echo "instructions per request of the post page, $N requests, median of $ROUNDS rounds"
echo
echo "| case | #[coroutine] | async fn | ratio | #[coroutine], each round | async fn, each round |"
echo "| --- | ---: | ---: | ---: | --- | --- |"
compare loop "" "SQLite, IoLoop"
compare threads "" "SQLite, --threads 2"
if [ -n "${BLOG_TEST_POSTGRES:-}" ]; then
  db="${BLOG_TEST_POSTGRES%/*}/blog_callgrind"
  PGOPTIONS="-c client_min_messages=warning" psql "$BLOG_TEST_POSTGRES" -qc "DROP DATABASE IF EXISTS blog_callgrind" -c "CREATE DATABASE blog_callgrind"
  compare loop "$db" "PostgreSQL, IoLoop"
  compare threads "$db" "PostgreSQL, --threads 2"
  psql "$BLOG_TEST_POSTGRES" -qc "DROP DATABASE blog_callgrind WITH (FORCE)"
fi
