#!/usr/bin/env bash
# Regenerates every figure of BENCHMARKS.md, on this machine, in one run:
#   1. `cargo bench -p coroutine-runtime` (W1-W6, W8: criterion medians, each case beside its
#      baseline; W6 prints bytes),
#   2. coroutine-runtime/benches/compile_time.sh (W7),
#   3. bench/tornado/bench.py (Tornado's figures; needs `pip install -r bench/tornado/requirements.txt`),
# then prints the table (bench/table.py). Raw outputs go to $CARGO_TARGET_DIR/bench-results (or
# target/bench-results). Usage: bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}
results=$target/bench-results
mkdir -p "$results"

echo "== cargo bench -p coroutine-runtime" >&2
cargo bench -p coroutine-runtime 2>&1 | tee "$results/cargo-bench.txt" >&2
echo "== W7 compile time" >&2
bash coroutine-runtime/benches/compile_time.sh | tee "$results/compile-time.txt" >&2
echo "== Tornado" >&2
python3 bench/tornado/bench.py | tee "$results/tornado.txt" >&2
echo "== table" >&2
python3 bench/table.py "$results" "$target/criterion" | tee "$results/table.md"
