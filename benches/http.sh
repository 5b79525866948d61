#!/usr/bin/env bash
# Streamable HTTP under load: pipelined `tools/call`s of a no-op tool on one session, 64
# keep-alive connections, wrk for 10 s, against the generated server of benches/http/forge.yaml
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

# Runs $2 listening on $3 (http://host:port) and loads it with wrk; $1 names it.
measure() {
  local name=$1 binary=$2 url=$3/mcp pid
  BIND=${3#http://} PFORGE_BIND=${3#http://} RUST_LOG=error "$binary" 2>/dev/null &
  pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "$url" && break; sleep 0.05; done
  local id
  id=$(session "$url")
  echo "== $name (session $id)"
  SESSION=$id wrk -t2 -c64 -d10s --latency -s benches/http/call.lua "$url" \
    | grep -E "Requests/sec|Latency  |50%|99%|Non-2xx|Socket errors"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

measure "generated (pforge)" "$generated" http://127.0.0.1:8091
measure "hand-written rmcp (baseline)" "$baseline" http://127.0.0.1:8090
