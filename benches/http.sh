#!/usr/bin/env bash
# Streamable HTTP under load: pipelined `tools/call`s of a no-op tool on one session, 64
# keep-alive connections, wrk, 5 alternating rounds of 6 s, against the generated server of benches/http/forge.yaml
# and a hand-written rmcp server with the same tool (benches/baseline-http), in one run.
# Needs wrk (Debian package). From the repository root:
#   bash benches/http.sh
set -euo pipefail
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)"; exit 2; }
root=$(pwd)
work="$root/target/http-bench"
rm -rf "$work"
mkdir -p "$work/src/handlers"
cp benches/http/forge.yaml "$work/forge.yaml"
cp benches/http/handlers.rs "$work/src/handlers/bench.rs"
cargo build --quiet --release --locked
./target/release/pforge build --manifest "$work/forge.yaml" --no-compile >/dev/null 2>&1
export CARGO_TARGET_DIR="$root/target/http-bench-target"
(cd "$work" && cargo build --quiet --release)
generated="$CARGO_TARGET_DIR/release/http-bench"
(cd benches/baseline-http && cargo build --quiet --release)
baseline="$CARGO_TARGET_DIR/release/baseline-http"

# Opens a session at $1 and prints its id.
session() {
  local headers
  headers=$(curl -s -D - -o /dev/null "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' \
    -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"wrk","version":"1"}}}')
  local id
  id=$(printf '%s' "$headers" | tr -d '\r' | awk -F': ' 'tolower($1)=="mcp-session-id"{print $2}')
  curl -s -o /dev/null "$1" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H "Mcp-Session-Id: $id" \
    -H 'Mcp-Protocol-Version: 2025-06-18' \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  printf '%s' "$id"
}

# Runs $2 listening on $3 (http://host:port), loads it with wrk for 6 s and prints
# "calls/s p50 p99" (microseconds); $1 names it.
measure() {
  local binary=$2 url=$3/mcp pid id
  BIND=${3#http://} PFORGE_BIND=${3#http://} RUST_LOG=error "$binary" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "$url" && break; sleep 0.05; done
  id=$(session "$url")
  SESSION=$id wrk -t2 -c64 -d6s --latency -s benches/http/call.lua "$url" | awk '
    function us(v) { if (v ~ /ms$/) return v * 1000; if (v ~ /us$/) return v + 0; return v * 1000000 }
    $1 == "50%" { p50 = us($2) } $1 == "99%" { p99 = us($2) }
    $1 == "Requests/sec:" { rps = $2 }
    /Non-2xx|Socket errors/ { print "warning: " $0 > "/dev/stderr" }
    END { printf "%d %d %d\n", rps, p50, p99 }'
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# The machine's noise is about 10 % from run to run: alternate the servers and take medians.
rounds=${ROUNDS:-5}
for _ in $(seq "$rounds"); do
  measure generated "$generated" http://127.0.0.1:8091 >> "$work/generated.txt"
  measure baseline "$baseline" http://127.0.0.1:8090 >> "$work/baseline.txt"
done
median() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
echo "64 connections, one session, $rounds alternating rounds of 6 s, medians:"
echo "| server | calls/s | p50 µs | p99 µs |"
echo "| --- | ---: | ---: | ---: |"
for name in generated baseline; do
  echo "| $name | $(median "$work/$name.txt" 1) | $(median "$work/$name.txt" 2) | $(median "$work/$name.txt" 3) |"
done
echo "every round (calls/s p50 p99):"; paste "$work/generated.txt" "$work/baseline.txt"
