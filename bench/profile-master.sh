#!/usr/bin/env bash
# CPU profiles of the Yardmaster master under the peer harness's loads, one master process
# (and one .cpuprofile) per phase, each summarized by bench/cpuprofile-top.mjs:
#   noop     BENCH_B noop builds forced over 8 connections (the harness's (a))
#   logs80   one logs build, 20 MB of 80-byte lines      ((c) L80)
#   logs2    one logs build, 20 MB of 2-byte lines       ((c) L2)
#   rest     wrk on /api/v2/builds?limit=50 with ~250 builds in the DB ((e))
# Profiling slows the master down: these runs are for finding hot spots, never for figures.
#
#   bench/profile-master.sh SCRATCH [PHASE...]    SCRATCH as set up by the harness's setup.sh
# Env: YM_REPO (default this repository), BB_PEER_DIR, BENCH_B=200, BENCH_LOG_BYTES=20000000, WORKER=bb|own (bb: the 4
#      buildbot-workers; own: our TypeScript worker w1).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER="$(cd "${BB_PEER_DIR:-$REPO/../shared/bench/buildbot-peer}" && pwd)"
YM_REPO="$(cd "${YM_REPO:-$REPO}" && pwd)"
SCRATCH="$(cd "${1:?usage: profile-master.sh SCRATCH [noop logs80 logs2 rest]}" && pwd)"
shift
PHASES=("$@")
((${#PHASES[@]})) || PHASES=(noop logs80 logs2 rest)
set -a
# shellcheck disable=SC1091
source "$SCRATCH/master/peer.env"
set +a
export BB_URL="http://127.0.0.1:$BB_WWW_PORT" BENCH_EVENTS=poll BENCH_PROTO=profile BENCH_RUN=1
B="${BENCH_B:-200}"
LOG_BYTES="${BENCH_LOG_BYTES:-20000000}"
WORKER="${WORKER:-bb}"
OUT="$SCRATCH/profiles/$(date +%Y%m%d-%H%M%S)"
BASEDIR="$SCRATCH/ym-profile"
mkdir -p "$OUT"
CLIENT=(node "$PEER/bench-client.mjs")

log() { echo "[profile $(date +%H:%M:%S)] $*" >&2; }
PIDS=()
stop_pids() {
  local pid i alive
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 1 300); do
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

start_master() {  # start_master PROFILE_DIR|'' : sets MASTER_PID
  local prof=()
  [[ -n "$1" ]] && prof=(--cpu-prof --cpu-prof-dir="$1")
  node "${prof[@]}" "$YM_REPO/packages/master/bin/yardmaster.js" start \
    --config "$REPO/bench/peer/master.config.ts" --basedir "$BASEDIR" >> "$OUT/master.log" 2>&1 &
  MASTER_PID=$!
  export MASTER_PID
  for _ in $(seq 1 300); do curl -sf -o /dev/null "$BB_URL/api/v2/builders" && break; sleep 0.1; done
}
start_workers() {  # sets WPIDS
  local i starters=()
  WPIDS=()
  if [[ $WORKER == own ]]; then
    mkdir -p "$SCRATCH/own-worker/w1"
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" LANG=C.UTF-8 \
      YARDMASTER_WORKER_PASSWORD="$BB_WORKER_PASS" \
      node "$YM_REPO/packages/worker/bin/yardmaster-worker.js" \
      --master "127.0.0.1:$BB_MSGPACK_PORT" --name w1 --basedir "$SCRATCH/own-worker/w1" \
      >> "$OUT/worker.log" 2>&1 &
    WPIDS=($!)
    "${CLIENT[@]}" wait-workers n=1 2> /dev/null
    return
  fi
  for i in $(seq 1 "$BB_WORKERS"); do
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$HOME" LANG=C.UTF-8 BB_MSGPACK_QUIET=1 \
      /usr/bin/buildbot-worker start "$SCRATCH/workers/msgpack/w$i" > /dev/null &
    starters+=($!)
  done
  for i in "${starters[@]}"; do wait "$i" || true; done
  for i in $(seq 1 "$BB_WORKERS"); do WPIDS+=("$(cat "$SCRATCH/workers/msgpack/w$i/twistd.pid")"); done
  "${CLIENT[@]}" wait-workers "n=$BB_WORKERS" 2> /dev/null
}

for phase in "${PHASES[@]}"; do
  rm -rf "$BASEDIR" && mkdir -p "$BASEDIR"
  if [[ $phase == rest ]]; then   # fill the DB first, unprofiled, as the harness has by then
    start_master ''
    PIDS=("$MASTER_PID")
    start_workers
    PIDS+=("${WPIDS[@]}")
    "${CLIENT[@]}" throughput builder=noop tag=fill count=250 conc=8 > /dev/null
    stop_pids "${WPIDS[@]}" "$MASTER_PID"
  fi
  log "phase $phase"
  start_master "$OUT/$phase"
  PIDS=("$MASTER_PID")
  start_workers
  PIDS+=("${WPIDS[@]}")
  sleep 1
  case $phase in
    noop) "${CLIENT[@]}" throughput builder=noop tag=a_noop "count=$B" conc=8 | tee -a "$OUT/results.tsv" ;;
    logs80) "${CLIENT[@]}" logs "bytes=$LOG_BYTES" line_bytes=80 | tee -a "$OUT/results.tsv" ;;
    logs2) "${CLIENT[@]}" logs "bytes=$LOG_BYTES" line_bytes=2 | tee -a "$OUT/results.tsv" ;;
    rest) wrk -t2 -c20 -d10s --latency -H 'Accept: application/json' "$BB_URL/api/v2/builds?limit=50" \
      | grep -E 'Requests/sec|^ +(50|99)%' | tee -a "$OUT/results.tsv" ;;
    *) log "unknown phase $phase"; exit 2 ;;
  esac
  stop_pids "${WPIDS[@]}" "$MASTER_PID"
  PIDS=()
  for f in "$OUT/$phase"/*.cpuprofile; do
    node "$REPO/bench/cpuprofile-top.mjs" "$f" > "$OUT/$phase.txt"
    log "$phase: $f -> $OUT/$phase.txt"
  done
done
echo "$OUT"
