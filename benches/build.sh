#!/usr/bin/env bash
# End to end `pforge build --no-compile` of a 1,000-tool config with the chapter's defaults
# (retry and breaker on every tool, a bulkhead and a value fallback on a third of them; all four
# tool kinds), fresh and with nothing changed, beside two floors in the same hyperfine run:
# `pforge check` of the same file (loading alone) and rustfmt alone on the generated files;
# then the size of what it generates.
# Needs hyperfine (Debian package). Run from the repository root:
#   bash benches/build.sh
set -euo pipefail
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)"; exit 2; }
root=$(pwd)
cargo build --quiet --release --locked
bin="$root/target/release/pforge"
work=$(mktemp -d -p "$root/target" build-bench.XXXX)
trap 'rm -rf "$work"' EXIT

{
  printf 'forge: {name: bench-server, version: 1.0.0}\n'
  printf 'fault_tolerance:\n  retry: {max_attempts: 3, initial_delay: 100ms, max_delay: 5s}\n'
  printf '  circuit_breaker: {failure_threshold: 5, timeout: 60s, success_threshold: 2}\n'
  printf '  error_tracking: {enabled: true, max_errors: 100}\n'
  printf 'tools:\n'
  for i in $(seq 0 999); do
    case $((i % 4)) in
      0) printf '  - type: http\n    name: fetch_%d\n    endpoint: "https://api.example.com/items/{{id}}"\n' "$i" ;;
      1) printf '  - type: native\n    name: compute_%d\n    handler: handlers::compute::compute_%d\n' "$i" "$i"
         printf '    params: {n: {type: integer, minimum: 0}, label: {type: string, default: x}}\n' ;;
      2) printf '  - type: cli\n    name: run_%d\n    command: echo\n    args: ["{{message}}"]\n    timeout_ms: 2000\n' "$i" ;;
      3) printf '  - type: http\n    name: post_%d\n    endpoint: https://api.example.com/posts\n    method: POST\n    params: {title: string}\n' "$i" ;;
    esac
    if ((i % 3 == 0)); then
      printf '    bulkhead: {max_concurrent: 8, max_queued: 16, timeout: 1s}\n'
      printf '    fallback: {type: value, value: {stale: true}}\n'
    fi
  done
} > "$work/forge.yaml"
"$bin" check "$work/forge.yaml" >/dev/null

cd "$work"
# The formatter's own floor: rustfmt on the same crate's files, run as `cargo fmt` runs it
# (the crate roots; rustfmt follows their modules), in one process.
reference="$work/reference"
mkdir "$reference" && cp forge.yaml "$reference/"
"$bin" build --manifest "$reference/forge.yaml" --no-compile >/dev/null
roots=$(cd "$reference" && ls src/lib.rs src/main.rs 2>/dev/null | sed "s|^|$reference/|" | tr '\n' ' ')
# Fresh: a new project directory every run (what `pforge new` and a first build see).
# "Nothing changed": the same project again, which the build stamp lets pforge skip. Without
# rustfmt: the same fresh build, printed by prettyplease only, to show the formatter's share.
new_dir='d=$(mktemp -d -p "'"$work"'" fresh.XXXX) && cp forge.yaml "$d"/'
hyperfine --warmup 2 --runs 10 --export-markdown "$work/times.md" \
  --prepare true --prepare true --prepare true --prepare true --prepare "$bin build --no-compile" \
  -n "check (floor)" "$bin check forge.yaml" \
  -n "rustfmt alone, same files (floor)" "rustfmt --edition 2024 $roots" \
  -n "build --no-compile, fresh" "$new_dir && $bin build --manifest \"\$d/forge.yaml\" --no-compile" \
  -n "build --no-compile, fresh, no rustfmt" "$new_dir && RUSTFMT=/nonexistent $bin build --manifest \"\$d/forge.yaml\" --no-compile" \
  -n "build --no-compile, nothing changed" "$bin build --no-compile"
cat "$work/times.md"
rs_lines=$(find src -name '*.rs' -exec cat {} + | wc -l)
largest=$(find src/generated/tools -maxdepth 1 -name '*.rs' ! -name mod.rs -exec wc -l {} + | grep -v total | sort -n | tail -1)
echo "generated Rust: ${rs_lines} lines in $(find src -name '*.rs' | wc -l) files (target: at most 150,000)"
echo "largest tool module: ${largest}"
mkdir "$work/rss" && cp forge.yaml "$work/rss/"
/usr/bin/time -f "peak RSS of a fresh build: %M KiB" "$bin" build --manifest "$work/rss/forge.yaml" --no-compile >/dev/null 2>&1
mkdir "$work/phases" && cp forge.yaml "$work/phases/"
echo "phases of a fresh build:"
PFORGE_TIMINGS=1 "$bin" build --manifest "$work/phases/forge.yaml" --no-compile 2>&1 >/dev/null | grep '^pforge:' 
