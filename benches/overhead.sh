#!/usr/bin/env bash
# Success-path overhead per call of a generated tool with breaker + retry + bulkhead + timeout,
# against the same stack built from tower and failsafe, and against a bare call (criterion,
# side by side in one run). Generates benches/overhead/forge.yaml into target/overhead-bench,
# adds the bench harness to that crate, and runs it. From the repository root:
#   bash benches/overhead.sh
set -euo pipefail
root=$(pwd)
work="$root/target/overhead-bench"
rm -rf "$work"
mkdir -p "$work/src/handlers" "$work/benches"
cp benches/overhead/forge.yaml "$work/forge.yaml"
# The handlers are user files: written first, pforge keeps them.
cp benches/overhead/handlers.rs "$work/src/handlers/bench.rs"
cargo build --quiet --release
./target/release/pforge build --manifest "$work/forge.yaml" --no-compile >/dev/null 2>&1
cp benches/overhead/bench.rs "$work/benches/overhead.rs"
cat >> "$work/Cargo.toml" <<'TOML'
criterion = { version = "0.8", default-features = false, features = ["async_tokio", "cargo_bench_support"] }
failsafe = "1.3"
tower = { version = "0.5", features = ["retry", "limit", "timeout", "util"] }

[[bench]]
name = "overhead"
harness = false
TOML
cd "$work"
results=$(cargo bench --bench overhead -- --noplot 2>&1 | grep -E "^success path|time:")
echo "$results"
# The middle estimate of each, in ns, in the order bare, generated, tower.
mapfile -t ns < <(echo "$results" | awk '/time:/ { v = $4; u = $5; if (u == "µs") v *= 1000; print v }')
awk -v bare="${ns[0]}" -v ours="${ns[1]}" -v tower="${ns[2]}" 'BEGIN {
  printf "overhead per call: pforge %.1f ns, tower + failsafe %.1f ns, ratio %.2f (target: at most 0.50)\n",
    ours - bare, tower - bare, (ours - bare) / (tower - bare)
}'
