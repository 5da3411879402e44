#!/usr/bin/env bash
# Runs each fuzz target (fuzz/: questionnaire, expression, upload) with cargo-fuzz on the stable
# toolchain, without a sanitizer (the code under test is safe Rust; overflow checks and debug
# assertions stay on), starting from the committed corpus. New inputs go to a scratch folder, so
# the committed corpus changes only by hand. A crash fails the script and leaves the input in
# fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                 # 20 s per target (what CI runs)
#   scripts/fuzz.sh --seconds 3600  # a long run
#   scripts/fuzz.sh --runs 10000000 # a fixed number of executions per target
# Figures: BENCHMARKS.md, "Fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
limit="-max_total_time=20"
case "${1:-}" in
  --seconds) limit="-max_total_time=$2" ;;
  --runs) limit="-runs=$2" ;;
  "") ;;
  *) echo "usage: scripts/fuzz.sh [--seconds N | --runs N]" >&2; exit 2 ;;
esac
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd fuzz
# the fuzz build shares nothing with the workspace's (other compiler flags): its own folder
# under the ignored target/, so a clean clone stays clean
target_dir="../target/fuzz"
cargo fuzz build -O -s none --target-dir "$target_dir"
for t in questionnaire expression upload; do
  mkdir -p "$scratch/$t"
  echo "=== fuzz $t ($limit)"
  if ! cargo fuzz run -O -s none --target-dir "$target_dir" "$t" "$scratch/$t" "corpus/$t" -- \
    "$limit" -print_final_stats=1 >"$scratch/$t.log" 2>&1; then
    tail -n 60 "$scratch/$t.log" >&2
    echo "fuzz $t failed: the input is in fuzz/artifacts/$t/" >&2
    exit 1
  fi
  grep -E "^(Done|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))" "$scratch/$t.log"
done
