#!/usr/bin/env bash
# Starts or stops a local 3-node Keel shard on 127.0.0.1:7001..7003 (cluster ports 17001..17003).
#
#   scripts/local-shard.sh start    # data in $KEEL_SHARD_DIR (./data/local-shard), logs and pids there
#   scripts/local-shard.sh status   # keel cluster status, asked of n1
#   scripts/local-shard.sh stop     # SIGTERM each node (a leader hands off first), bounded wait, then SIGKILL
#
# Environment: KEEL_SHARD_DIR, KEEL_BASE_PORT (7000: nodes on base+1..base+3), KEEL_APPENDFSYNC (always).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
main="$root/packages/cli/dist/src/main.js"
dir="${KEEL_SHARD_DIR:-$root/data/local-shard}"
base="${KEEL_BASE_PORT:-7000}"
fsync="${KEEL_APPENDFSYNC:-always}"
peers="n1=127.0.0.1:$((base + 1)),n2=127.0.0.1:$((base + 2)),n3=127.0.0.1:$((base + 3))"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
  [ -f "$main" ] || { echo "build first: npx tsc --build" >&2; exit 1; }
  mkdir -p "$dir/pids" "$dir/logs"
  for i in 1 2 3; do
    pidf="$dir/pids/n$i.pid"
    if alive "$pidf"; then echo "n$i already running (pid $(cat "$pidf"))"; continue; fi
    nohup node "$main" server --node-id "n$i" --port $((base + i)) --dir "$dir/n$i" --peers "$peers" \
      --appendfsync "$fsync" >"$dir/logs/n$i.log" 2>&1 &
    echo $! >"$pidf"
  done
  for i in 1 2 3; do
    for _ in $(seq 1 100); do
      grep -q 'Ready to accept connections' "$dir/logs/n$i.log" 2>/dev/null && break
      alive "$dir/pids/n$i.pid" || { echo "n$i exited; see $dir/logs/n$i.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "n$i: 127.0.0.1:$((base + i)) pid $(cat "$dir/pids/n$i.pid") log $dir/logs/n$i.log"
  done
}

stop() {
  for i in 1 2 3; do
    pidf="$dir/pids/n$i.pid"
    if ! alive "$pidf"; then rm -f "$pidf"; continue; fi
    pid="$(cat "$pidf")"
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "n$i (pid $pid) did not exit in 5 s; SIGKILL" >&2; kill -KILL "$pid"; fi
    rm -f "$pidf"
    echo "n$i stopped"
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) node "$main" cluster status --port $((base + 1)) ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
