#!/usr/bin/env bash
# Log ingest with Yardmaster's own TypeScript worker instead of buildbot-worker: the same
# master config (bench/peer/master.config.ts) and the harness's client, one `logs` build per
# line length after a 2 MB warm-up logs build (discarded; decision 0016), plus ideal-log.mjs
# (a master that only counts bytes) driving our worker, which is that worker's own ceiling.
# Prints RESULT lines (proto column: own-worker) on stdout.
#
#   bench/own-worker-logs.sh SCRATCH     SCRATCH as set up by the harness's setup.sh
#                                        (peer-bench.sh runs this at its end)
# Env: YM_REPO (the checkout whose built master and worker run; default this repository),
#      BB_PEER_DIR, BENCH_LOG_BYTES=20000000, BENCH_LOG_LINE_BYTES="80 2", OWN_RUNS=3,
#      OWN_EVENTS=sse (or poll: how the client sees the build finish).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$(cd "${BB_PEER_DIR:-$REPO/../shared/bench/buildbot-peer}" && pwd)"
YM_REPO="$(cd "${YM_REPO:-$REPO}" && pwd)"
SCRATCH="$(cd "${1:?usage: own-worker-logs.sh SCRATCH}" && pwd)"
[[ -f "$SCRATCH/master/peer.env" ]] || { echo "run setup.sh $SCRATCH first" >&2; exit 1; }
set -a
# shellcheck disable=SC1091
source "$SCRATCH/master/peer.env"
set +a
LOG_BYTES="${BENCH_LOG_BYTES:-20000000}"
LOG_LINE_BYTES="${BENCH_LOG_LINE_BYTES:-80 2}"
OWN_RUNS="${OWN_RUNS:-3}"
# Builds are watched on /sse, as peer-bench.sh watches Yardmaster (PEER_YM_EVENTS=sse): at
# 100 MB/s a 20 MB log takes 0.2 s, and polling every 100 ms would add up to half of that.
export BB_URL="http://127.0.0.1:$BB_WWW_PORT" BENCH_EVENTS="${OWN_EVENTS:-sse}" BENCH_PROTO=own-worker
BASEDIR="$SCRATCH/ym-own"
WORKDIR="$SCRATCH/own-worker/w1"
IDEAL="$SCRATCH/ideal"

log() { echo "[own-worker $(date +%H:%M:%S)] $*" >&2; }
PIDS=()
stop_pids() {
  local pid i alive
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 100); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    ((alive)) || return 0
    sleep 0.1
  done
  for pid in "$@"; do kill -KILL "$pid" 2>/dev/null || true; done
}
cleanup() { ((${#PIDS[@]})) && stop_pids "${PIDS[@]}"; return 0; }
trap cleanup EXIT
trap 'exit 130' INT TERM

start_worker() {  # our worker w1 in a clean environment, as bench.sh starts buildbot-workers
  mkdir -p "$WORKDIR"
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" LANG=C.UTF-8 \
    YARDMASTER_WORKER_PASSWORD="$BB_WORKER_PASS" \
    node "$YM_REPO/packages/worker/bin/yardmaster-worker.js" \
    --master "127.0.0.1:$BB_MSGPACK_PORT" --name w1 --basedir "$WORKDIR" \
    > "$SCRATCH/own-worker/worker.log" 2>&1 &
  WORKER_PID=$!
  PIDS+=("$WORKER_PID")
}

for run in $(seq 1 "$OWN_RUNS"); do
  export BENCH_RUN=$run
  # 1. the real master, one logs build per line length
  rm -rf "$BASEDIR" && mkdir -p "$BASEDIR" "$SCRATCH/own-worker"
  node "$YM_REPO/packages/master/bin/yardmaster.js" start \
    --config "$REPO/bench/peer/master.config.ts" --basedir "$BASEDIR" \
    > "$SCRATCH/own-worker/master-$run.log" 2>&1 &
  MASTER_PID=$!
  PIDS+=("$MASTER_PID")
  export MASTER_PID
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$BB_URL/api/v2/builders" && break; sleep 0.1; done
  start_worker
  node "$PEER/bench-client.mjs" wait-workers n=1 2> /dev/null
  sleep 1
  # A 2 MB logs build first, output discarded: in bench.sh the logs builds follow ~250 other
  # builds on the same master, so they meet a warm one (JIT-compiled log path), not its first.
  node "$PEER/bench-client.mjs" logs bytes=2000000 line_bytes=80 > /dev/null
  for lb in $LOG_LINE_BYTES; do
    log "run $run: logs build, $lb-byte lines"
    node "$PEER/bench-client.mjs" logs "bytes=$LOG_BYTES" "line_bytes=$lb"
  done
  printf 'RESULT\td_master_rss_peak_MB\town-worker\t%s\t%s\tMB\n' "$run" \
    "$(awk '$1 == "VmHWM:" {printf "%.1f", $2/1024}' "/proc/$MASTER_PID/status")"
  stop_pids "$WORKER_PID" "$MASTER_PID"
  PIDS=()

  # 2. the worker's own ceiling: ideal-log.mjs only counts the bytes it receives
  if [[ -f "$IDEAL/ideal-log.mjs" && -d "$IDEAL/node_modules/ws" ]]; then
    for lb in $LOG_LINE_BYTES; do
      (cd "$IDEAL" && exec env PORT="$BB_MSGPACK_PORT" LINE="$lb" BYTES="$LOG_BYTES" node ideal-log.mjs) \
        > "$SCRATCH/own-worker/ideal.txt" 2>&1 &
      IDEAL_PID=$!
      PIDS+=("$IDEAL_PID")
      sleep 0.5
      start_worker
      wait "$IDEAL_PID" || true
      stop_pids "$WORKER_PID"
      PIDS=()
      line=$(tail -1 "$SCRATCH/own-worker/ideal.txt")
      log "run $run: ideal-log.mjs LINE=$lb with our worker: $line"
      printf 'RESULT\tideal_logs_L%s_MB_per_s\town-worker\t%s\t%s\tMB/s\n' "$lb" "$run" \
        "$(sed -n 's/.*: \([0-9.]*\) MB\/s.*/\1/p' <<< "$line")"
    done
  fi
done
