#!/usr/bin/env bash
# W7 diagnosis (issue 12): the instructions rustc executes (callgrind, all its threads) to build
# each named crate of a workspace written by bench/w7/variants.py, debug profile, incremental off:
# a figure that does not move with the machine's load, unlike compile_time.sh's CPU seconds.
# Usage: bash bench/w7/rustc_instructions.sh DIR CRATE... (needs valgrind; each crate takes a
# minute or two under callgrind at the default 100 fns).
set -euo pipefail
dir=$(cd "$1" && pwd)
shift
export CARGO_TARGET_DIR=$dir/target CARGO_INCREMENTAL=0
cd "$dir"
cargo build --quiet --workspace
wrapper=$dir/callgrind-rustc.sh
# Runs rustc under callgrind for the crate named in $W7_CRATE, plainly for every other crate.
cat >"$wrapper" <<'WRAP'
#!/usr/bin/env bash
rustc=$1
shift
if [[ " $* " == *" --crate-name $W7_CRATE "* ]]; then
  exec valgrind --tool=callgrind --callgrind-out-file=/dev/null --log-file="$W7_LOG" "$rustc" "$@"
fi
exec "$rustc" "$@"
WRAP
chmod +x "$wrapper"
for crate in "$@"; do
  touch "$crate/src/lib.rs"
  log=$dir/$crate.callgrind.log
  W7_CRATE=${crate//-/_} W7_LOG=$log RUSTC_WRAPPER=$wrapper cargo build --quiet -p "$crate"
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" |
    awk -v c="$crate" '{ printf "%-12s %.3f billion instructions\n", c, $1 / 1e9 }'
done
