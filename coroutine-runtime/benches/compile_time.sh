#!/usr/bin/env bash
# W7: what `#[coroutine]` costs at compile time. See BENCHMARKS.md at the root of the repository.
#
# Generates library crates with the same 500 functions written as `#[coroutine]` fns and as
# `async fn`s, in two shapes:
#   handler: a request handler as in the seed's blog (three awaited lookups, an early `return`,
#            `?`, a call of another of the 500, some string work) - the figure that counts;
#   minimal: three yields and an xor - the fixed cost per fn with nothing to dilute it.
# Every fn is called from a `run_all` fn, as every fn of a real program is called somewhere.
# It builds the dependencies once, then times `cargo build` (debug, the edit-compile loop) of
# each crate alone - touch its source, rebuild, with incremental compilation off so the crate is
# compiled in full - RUNS times, alternating between the crates, and prints the medians of the
# CPU time (user + sys, steadier than the wall clock on a shared machine) and of the wall time,
# and the ratios. Usage: bash coroutine-runtime/benches/compile_time.sh [RUNS] (default 3).
set -euo pipefail

runs=${1:-3}
fns=500
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=${CARGO_TARGET_DIR:-$repo/target}/compile-time
crates=(handler-coroutines handler-async-fns minimal-coroutines minimal-async-fns)
rm -rf "$work"
mkdir -p "$work"

{
  echo '[workspace]'
  echo 'resolver = "3"'
  echo "members = [$(printf '"%s", ' "${crates[@]}")]"
  echo
  echo '[workspace.dependencies]'
  echo "coroutine-runtime = { path = \"$repo/coroutine-runtime\" }"
} >"$work/Cargo.toml"

# The code both handler crates share: a database whose lookups are `async fn`s.
db='/// A post.
pub struct Post {
    /// Its id.
    pub id: u64,
    /// Its title.
    pub title: String,
}

/// A database.
pub struct Db;

impl Db {
    /// Looks a post up.
    pub async fn find(&self, id: u64) -> Result<Post, String> {
        if id == u64::MAX {
            return Err(format!("no post {id}"));
        }
        Ok(Post { id, title: format!("post {id}") })
    }
}
'

# Prints function $1 in shape $2 ("handler" or "minimal") and style $3 ("coroutine" or "async").
function_source() {
  local i=$1 shape=$2 style=$3 head wait_open wait_close
  if [ "$style" = coroutine ]; then
    wait_open='yield_!('
    wait_close=')'
  else
    wait_open=''
    wait_close='.await'
  fi
  if [ "$shape" = handler ]; then
    if [ "$style" = coroutine ]; then
      head="#[coroutine_runtime::coroutine]
pub fn f$i(db: &Db, id: u64) -> Result<String, String> {"
    else
      head="pub async fn f$i(db: &Db, id: u64) -> Result<String, String> {"
    fi
    local parent='String::new()'
    ((i > 0)) && parent="${wait_open}f$((i / 2))(db, prev.id)${wait_close}?"
    cat <<EOF
/// Handler $i.
$head
    let post = ${wait_open}db.find(id + $i)${wait_close}?;
    if post.id % 7 == 3 {
        return Err(format!("post {} is hidden", post.id));
    }
    let prev = ${wait_open}db.find(post.id.saturating_sub(1))${wait_close}?;
    let next = ${wait_open}db.find(post.id + 1)${wait_close}?;
    let parent = $parent;
    let mut title = post.title;
    for word in [prev.title, next.title, parent] {
        if !word.is_empty() {
            title.push_str(" | ");
            title.push_str(&word);
        }
    }
    Ok(title)
}
EOF
  else
    if [ "$style" = coroutine ]; then
      head="#[coroutine_runtime::coroutine]
pub fn f$i(x: u64) -> u64 {"
    else
      head="pub async fn f$i(x: u64) -> u64 {"
    fi
    local parent=''
    ((i > 0)) && parent="    let a = ${wait_open}f$((i / 2))(a)${wait_close};
"
    cat <<EOF
/// Function $i.
$head
    let a = ${wait_open}std::future::ready(x + $i)${wait_close};
${parent}    let b = ${wait_open}async move { a * 3 }${wait_close};
    a ^ b
}
EOF
  fi
}

# Writes the crate $1: shape $2, style $3.
generate() {
  local crate=$1 shape=$2 style=$3 i
  mkdir -p "$work/$crate/src"
  cat >"$work/$crate/Cargo.toml" <<EOF
[package]
name = "$crate"
version = "0.1.0"
edition = "2024"

[dependencies]
coroutine-runtime.workspace = true
EOF
  {
    echo "//! $fns fns, $shape shape, $style style."
    [ "$style" = coroutine ] && echo 'use coroutine_runtime::yield_;'
    [ "$shape" = handler ] && echo "$db"
    for ((i = 0; i < fns; i++)); do
      function_source "$i" "$shape" "$style"
    done
    local open='' close='.await' signature='db: &Db) -> Result<(), String>'
    [ "$style" = coroutine ] && open='yield_!(' close=')'
    [ "$shape" = minimal ] && signature='x: u64) -> u64'
    echo '/// Calls every fn that no other fn calls.'
    [ "$style" = coroutine ] && echo '#[coroutine_runtime::coroutine]'
    echo "pub $([ "$style" = async ] && echo 'async ')fn run_all($signature {"
    [ "$shape" = minimal ] && echo '    let mut sum = 0u64;'
    for ((i = fns / 2; i < fns; i++)); do
      if [ "$shape" = minimal ]; then
        echo "    sum = sum.wrapping_add(${open}f$i(x)${close});"
      else
        echo "    ${open}f$i(db, 1)${close}?;"
      fi
    done
    if [ "$shape" = minimal ]; then echo '    sum'; else echo '    Ok(())'; fi
    echo '}'
  } >"$work/$crate/src/lib.rs"
}

generate handler-coroutines handler coroutine
generate handler-async-fns handler async
generate minimal-coroutines minimal coroutine
generate minimal-async-fns minimal async

cd "$work"
export CARGO_TARGET_DIR="$work/target" CARGO_INCREMENTAL=0
echo "W7 building the dependencies (and each crate once)..." >&2
cargo build --quiet --workspace

# Prints "cpu wall" seconds of one rebuild of crate $1.
rebuild() {
  touch "$1/src/lib.rs"
  local TIMEFORMAT='%U %S %R' times
  times=$({ time cargo build --quiet -p "$1" >&2; } 2>&1)
  awk '{ printf "%.2f %.2f\n", $1 + $2, $3 }' <<<"$times"
}

# Prints the median of its arguments.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

declare -A cpu wall
for ((run = 1; run <= runs; run++)); do
  for crate in "${crates[@]}"; do
    read -r c w < <(rebuild "$crate")
    cpu[$crate]+="$c "
    wall[$crate]+="$w "
    echo "W7 run $run: $crate cpu ${c} s, wall ${w} s" >&2
  done
done
for shape in handler minimal; do
  # shellcheck disable=SC2086 # the lists are meant to split
  {
    co_cpu=$(median ${cpu[$shape-coroutines]})
    af_cpu=$(median ${cpu[$shape-async-fns]})
    co_wall=$(median ${wall[$shape-coroutines]})
    af_wall=$(median ${wall[$shape-async-fns]})
  }
  ratio=$(awk -v a="$co_cpu" -v b="$af_cpu" 'BEGIN { printf "%.2f", a / b }')
  wall_ratio=$(awk -v a="$co_wall" -v b="$af_wall" 'BEGIN { printf "%.2f", a / b }')
  echo "W7_compile_time_$shape/coroutine  cpu $co_cpu s  wall $co_wall s  (median of $runs builds of $fns fns)"
  echo "W7_compile_time_$shape/async_fn   cpu $af_cpu s  wall $af_wall s"
  echo "W7 $shape ratio coroutine / async_fn: cpu $ratio, wall $wall_ratio (target: at most 1.5)"
done
