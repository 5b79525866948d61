#!/usr/bin/env bash
# Cold `cargo build` of the crate pforge generates for examples/minimal.yaml against a
# hand-written rmcp server with the same tools (benches/baseline), each in an empty target
# directory, then an incremental rebuild after changing one tool. Run from the repository root:
#   bash benches/cold-build.sh
set -euo pipefail
root=$(pwd)
work=$(mktemp -d -p "$root/target" cold-build.XXXX)
trap 'rm -rf "$work"' EXIT
cargo build --quiet --release
cargo fetch --quiet --manifest-path benches/baseline/Cargo.toml

mkdir -p "$work/generated"
cp examples/minimal.yaml "$work/generated/forge.yaml"
./target/release/pforge build --manifest "$work/generated/forge.yaml" --no-compile >/dev/null 2>&1
cargo fetch --quiet --manifest-path "$work/generated/Cargo.toml"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }'; }

baseline=$(seconds cargo build --manifest-path benches/baseline/Cargo.toml --target-dir "$work/target-baseline")
generated=$(seconds cargo build --manifest-path "$work/generated/Cargo.toml" --target-dir "$work/target-generated")
echo "cold build, hand-written baseline: ${baseline} s"
echo "cold build, pforge-generated:      ${generated} s"
echo "ratio: $(awk -v g="$generated" -v b="$baseline" 'BEGIN { printf "%.2f", g / b }')"

# Change one tool's description and rebuild: only the server crate may be compiled again.
sed -i 's/Greet a person by name/Greet someone by name/' "$work/generated/forge.yaml"
./target/release/pforge build --manifest "$work/generated/forge.yaml" --no-compile >/dev/null 2>&1
rebuilt=$(cargo build --manifest-path "$work/generated/Cargo.toml" --target-dir "$work/target-generated" 2>&1 | grep -c "Compiling" || true)
echo "crates compiled by the incremental rebuild: ${rebuilt} (expected 1: the server itself)"
