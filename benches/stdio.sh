#!/usr/bin/env bash
# stdio under load: the generated server of examples/minimal.yaml against a hand-written rmcp
# server with the same tools (benches/baseline), both driven in one run by the same Rust client
# (benches/load): 20,000 pipelined `tools/call`s of `greet` at 1 and at 64 in flight, and a
# burst of 20,000 written without waiting (peak RSS), cold starts and `tools/list`.
# From the repository root:
#   bash benches/stdio.sh            (CALLS=... to change the count)
set -euo pipefail
root=$(pwd)
calls=${CALLS:-20000}
work="$root/target/stdio-bench"
rm -rf "$work"
mkdir -p "$work"
cp examples/minimal.yaml "$work/forge.yaml"
cargo build --quiet --release --locked
./target/release/pforge build --manifest "$work/forge.yaml" --no-compile >/dev/null 2>&1
export CARGO_TARGET_DIR="$root/target/stdio-bench-target"
(cd "$work" && cargo build --quiet --release)
(cd benches/baseline && cargo build --quiet --release --locked)
(cd benches/load && cargo build --quiet --release)
bin="$CARGO_TARGET_DIR/release"
export RUST_LOG=error

declare -A figure
# Runs the client against $2 with $3 in flight; records its figures under "$1 $3 name".
measure() {
  local line
  while read -r line; do
    figure["$1 $3 ${line%% *}"]=${line#* }
  done < <("$bin/mcp-load" --calls "$calls" --inflight "$3" --cold 20 -- "$2")
}
for inflight in 1 64 "$calls"; do
  measure generated "$bin/hello-server" "$inflight"
  measure baseline "$bin/baseline-server" "$inflight"
done

row() { # label, key, in flight
  local g=${figure["generated $3 $2"]} b=${figure["baseline $3 $2"]}
  printf '| %s | %s | %s | %.2f |\n' "$1" "$g" "$b" "$(echo "$g $b" | awk '{ print ($2 > 0) ? $1 / $2 : 0 }')"
}
echo "| figure | generated (pforge) | hand-written rmcp | ratio |"
echo "| --- | ---: | ---: | ---: |"
row "calls/s, 1 in flight" calls_per_s 1
row "calls/s, 64 in flight" calls_per_s 64
row "calls/s, $calls written at once" calls_per_s "$calls"
row "p50 µs, 1 in flight" p50_us 1
row "p99 µs, 1 in flight" p99_us 1
row "p50 µs, 64 in flight" p50_us 64
row "p99 µs, 64 in flight" p99_us 64
row "peak RSS MiB, $calls written at once" peak_rss_mib "$calls"
row "cold start ms (median of 20)" cold_start_ms 64
row "tools/list µs (median of 200)" tools_list_us 64
for server in generated baseline; do
  for inflight in 1 64 "$calls"; do
    errors=${figure["$server $inflight errors"]}
    [[ $errors == 0 ]] || echo "warning: $server answered $errors calls with an error at $inflight in flight"
  done
done
